import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

/**
 * No import circle in src/, type-only imports included: a circle means a shared type or helper sits
 * in the wrong module (domain.ts and events.ts hold the shared types). Reads the sources, so a new
 * circle fails here before review.
 */

const SRC = resolve(__dirname, "../src");
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)["'](\.[^"']*)["']/gm;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

/** The file a relative specifier names: `./x`, `./x.js` or `./x/index`. */
function target(from: string, specifier: string): string | undefined {
  const base = resolve(dirname(from), specifier.replace(/\.js$/, ""));
  return [`${base}.ts`, join(base, "index.ts")].find((file) => existsSync(file));
}

/** Edges of the graph of relative imports among the files under `root`. */
function importGraph(root: string): Map<string, string[]> {
  const files = sourceFiles(root);
  return new Map(
    files.map((file) => [
      relative(root, file),
      [...readFileSync(file, "utf8").matchAll(SPECIFIER)]
        .map((m) => target(file, m[1] as string))
        .filter((t): t is string => t?.startsWith(root) === true)
        .map((t) => relative(root, t)),
    ]),
  );
}

/** Every circle, once, as the path that closes it ("a.ts -> b.ts -> a.ts"). */
function circles(graph: ReadonlyMap<string, readonly string[]>): string[] {
  const found = new Set<string>();
  const done = new Set<string>();
  const visit = (node: string, path: string[]) => {
    const at = path.indexOf(node);
    if (at >= 0) {
      const loop = path.slice(at);
      const start = loop.indexOf([...loop].sort()[0] as string);
      const canonical = [...loop.slice(start), ...loop.slice(0, start)];
      found.add([...canonical, canonical[0]].join(" -> "));
      return;
    }
    if (done.has(node)) return;
    for (const next of graph.get(node) ?? []) visit(next, [...path, node]);
    done.add(node);
  };
  for (const node of graph.keys()) visit(node, []);
  return [...found].sort();
}

describe("imports in src/", () => {
  it("finds a circle, type-only or through a folder, and reports it once", () => {
    const graph = new Map([
      ["a.ts", ["b.ts"]],
      ["b.ts", ["plugins/c.ts", "d.ts"]],
      ["plugins/c.ts", ["a.ts"]],
      ["d.ts", []],
      ["e.ts", ["e.ts"]],
    ]);
    expect(circles(graph)).toEqual(["a.ts -> b.ts -> plugins/c.ts -> a.ts", "e.ts -> e.ts"]);
    expect(
      circles(
        new Map([
          ["a.ts", ["b.ts"]],
          ["b.ts", []],
        ]),
      ),
    ).toEqual([]);
  });

  it("reads the graph from the sources, type-only imports and subfolders included", () => {
    const graph = importGraph(SRC);
    expect(graph.get("indices.ts")).toContain("domain.ts");
    expect(graph.get("routes/search.ts")).toEqual(expect.arrayContaining(["answers.ts", "plugins/schemas.ts"]));
    expect(graph.get("server.ts")).toContain("routes/chat.ts");
  });

  it("has no circle", () => {
    expect(circles(importGraph(SRC))).toEqual([]);
  });
});
