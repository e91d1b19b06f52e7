import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../helpers/stack-files";

/**
 * Layers point one way: index.ts -> stacks/ -> components/. A component owns its args and settings
 * types; the stack maps its validated config onto them. These tests read the sources, so a new file
 * that breaks the rule fails here before it is ever reviewed.
 */

const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)["']([^"']+)["']/gm;

function importSpecifiers(source: string): string[] {
  return [...source.matchAll(SPECIFIER)].map((match) => match[1] as string);
}

const SKIPPED = new Set(["node_modules", "dist", ".git", ".venv", "bin"]);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return SKIPPED.has(entry.name) ? [] : sourceFiles(path);
    return /\.m?ts$/.test(entry.name) ? [path] : [];
  });
}

/** Every relative import under `layer` that lands outside it, as "file -> target". */
function importsLeaving(layer: string, forbidden: readonly string[]): string[] {
  const base = join(repoRoot, layer);
  return sourceFiles(base).flatMap((file) =>
    importSpecifiers(readFileSync(file, "utf8"))
      .filter((spec) => spec.startsWith("."))
      .map((spec) => relative(repoRoot, resolve(dirname(file), spec)))
      .filter((target) => forbidden.some((dir) => target === dir || target.startsWith(`${dir}/`)))
      .map((target) => `${relative(repoRoot, file)} -> ${target}`),
  );
}

/**
 * Package roots: each workspace package under packages/, the jobs, the orchestrator, the policy pack,
 * and the root program (everything else). Code reaches another package by its name, through npm
 * workspaces, never by a relative path into its folder.
 */
const PACKAGE_ROOTS = [
  ...readdirSync(join(repoRoot, "packages")).map((name) => `packages/${name}`),
  "k8s/backbone",
  "k8s/orchestrator",
  "policy",
  "local",
];

function packageOf(repoPath: string): string {
  return PACKAGE_ROOTS.find((root) => repoPath === root || repoPath.startsWith(`${root}/`)) ?? "<root program>";
}

/** The relative imports in `source` (a file at `file`, relative to the root) whose target lies in another package. */
function crossings(file: string, source: string): string[] {
  return importSpecifiers(source)
    .filter((spec) => spec.startsWith("."))
    .map((spec) => relative(repoRoot, resolve(repoRoot, dirname(file), spec)))
    .filter((target) => packageOf(file) !== packageOf(target))
    .map((target) => `${file} -> ${target}`);
}

/** Every relative import in the repository whose target lies in another package, as "file -> target". */
function importsCrossingPackages(): string[] {
  const roots = ["index.ts", "stacks", "components", "policy", "scripts", "test", "packages", "k8s", "local"];
  return roots
    .map((root) => join(repoRoot, root))
    .filter((path) => existsSync(path))
    .flatMap((path) => (path.endsWith(".ts") ? [path] : sourceFiles(path)))
    .flatMap((file) => crossings(relative(repoRoot, file), readFileSync(file, "utf8")));
}

describe("layering", () => {
  it("finds static, dynamic and require imports", () => {
    const source = [
      'import type { A } from "../../stacks/config";',
      'export * from "./settings";',
      'const m = await import("../x");',
      'const r = require("@pulumi/pulumi");',
      'import "./side-effect";',
    ].join("\n");
    expect(importSpecifiers(source)).toEqual([
      "../../stacks/config",
      "./settings",
      "../x",
      "@pulumi/pulumi",
      "./side-effect",
    ]);
  });

  it("no file under components/ imports from stacks/, test/ or the program entry point", () => {
    expect(importsLeaving("components", ["stacks", "test", "index.ts", "index"])).toEqual([]);
  });

  it("no file under stacks/ imports from test/", () => {
    expect(importsLeaving("stacks", ["test"])).toEqual([]);
  });

  it("no relative import crosses a package root", () => {
    expect(importsCrossingPackages()).toEqual([]);
  });

  it("reports a relative import into another package's folder, and none within a package", () => {
    const source = [
      'import { corpusDocuments } from "../../../packages/test-engines/src/corpus";',
      'import { startModelServer } from "../../../test/search-engines/model-server";',
      'import { createApp } from "../src/app";',
      'import { acquireEngines } from "@search-backbone/test-engines";',
    ].join("\n");
    expect(crossings("k8s/orchestrator/test/harness.ts", source)).toEqual([
      "k8s/orchestrator/test/harness.ts -> packages/test-engines/src/corpus",
      "k8s/orchestrator/test/harness.ts -> test/search-engines/model-server",
    ]);
    expect(
      crossings("test/search-engines/backbone.engines.test.ts", 'import "../../packages/relevance/src/fusion";'),
    ).toEqual(["test/search-engines/backbone.engines.test.ts -> packages/relevance/src/fusion"]);
  });

  it("tells a package's files from the root program's", () => {
    expect(packageOf("packages/relevance/src/fusion.ts")).toBe("packages/relevance");
    expect(packageOf("k8s/orchestrator/src/app.ts")).toBe("k8s/orchestrator");
    expect(packageOf("policy/relevance.ts")).toBe("policy");
    expect(packageOf("components/search/jobs.ts")).toBe("<root program>");
    expect(packageOf("k8s/backbone-extra/x.ts")).toBe("<root program>");
    expect(packageOf("packages/test-engines/src/corpus.ts")).toBe("packages/test-engines");
  });
});
