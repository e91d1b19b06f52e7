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
];

function packageOf(repoPath: string): string {
  return PACKAGE_ROOTS.find((root) => repoPath === root || repoPath.startsWith(`${root}/`)) ?? "<root program>";
}

/**
 * Known crossings, each with its reason. The orchestrator's engine tests share the search suite's
 * test support (corpus, engine start script, model server) with test/search-engines and the benchmark.
 */
const ALLOWED_CROSSINGS = new Set([
  "k8s/orchestrator/test/harness.ts -> test/search-engines/corpus",
  "k8s/orchestrator/test/harness.ts -> test/search-engines/engines",
  "k8s/orchestrator/test/harness.ts -> test/search-engines/model-server",
  "k8s/orchestrator/test/orchestrator.engines.test.ts -> test/search-engines/engines",
  "k8s/orchestrator/test/orchestrator.engines.test.ts -> test/search-engines/model-server",
]);

/** Every relative import in the repository whose target lies in another package, as "file -> target". */
function importsCrossingPackages(): string[] {
  const roots = ["index.ts", "stacks", "components", "policy", "scripts", "test", "packages", "k8s"];
  return roots
    .map((root) => join(repoRoot, root))
    .filter((path) => existsSync(path))
    .flatMap((path) => (path.endsWith(".ts") ? [path] : sourceFiles(path)))
    .flatMap((file) =>
      importSpecifiers(readFileSync(file, "utf8"))
        .filter((spec) => spec.startsWith("."))
        .map((spec) => [relative(repoRoot, file), relative(repoRoot, resolve(dirname(file), spec))] as const)
        .filter(([from, target]) => packageOf(from) !== packageOf(target))
        .map(([from, target]) => `${from} -> ${target}`),
    );
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
    expect(importsCrossingPackages().filter((crossing) => !ALLOWED_CROSSINGS.has(crossing))).toEqual([]);
  });

  it("tells a package's files from the root program's", () => {
    expect(packageOf("packages/relevance/src/fusion.ts")).toBe("packages/relevance");
    expect(packageOf("k8s/orchestrator/src/app.ts")).toBe("k8s/orchestrator");
    expect(packageOf("policy/relevance.ts")).toBe("policy");
    expect(packageOf("components/search/jobs.ts")).toBe("<root program>");
    expect(packageOf("k8s/backbone-extra/x.ts")).toBe("<root program>");
  });
});
