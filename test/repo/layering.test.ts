import { readdirSync, readFileSync } from "node:fs";
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

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") ? [path] : [];
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
});
