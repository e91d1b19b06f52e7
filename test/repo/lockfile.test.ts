import { describe, expect, it } from "vitest";
import { readRepoFile } from "../helpers/stack-files";

/**
 * `npm ci` on a Mac or on Windows needs the lock to list those platforms' optional native packages.
 * npm writes an entry only for a package the registry could resolve, so a registry that serves only
 * some platforms' builds leaves a lock that `npm ci` elsewhere rejects as out of sync. This test
 * fails on such a lock; the fix is to pin the package to a version whose every platform build resolves.
 */
interface LockEntry {
  readonly version?: string;
  readonly optionalDependencies?: Record<string, string>;
  readonly os?: string[];
}

const lock = JSON.parse(readRepoFile("package-lock.json")) as { packages: Record<string, LockEntry> };

/** Node's lookup: the package's own node_modules, then each ancestor's, then the root's. */
function resolveFrom(path: string, name: string): string | undefined {
  const parts = path === "" ? [] : path.split("/node_modules/").map((p, i) => (i === 0 ? p : `node_modules/${p}`));
  for (let depth = parts.length; depth >= 0; depth--) {
    const candidate = [...parts.slice(0, depth), `node_modules/${name}`].join("/");
    if (lock.packages[candidate]) return candidate;
  }
  return undefined;
}

function missingOptionalEntries(): string[] {
  return Object.entries(lock.packages).flatMap(([path, entry]) =>
    Object.keys(entry.optionalDependencies ?? {})
      .filter((dep) => resolveFrom(path, dep) === undefined)
      .map((dep) => `${path || "<root>"} declares ${dep}@${entry.optionalDependencies?.[dep]}`),
  );
}

describe("package-lock.json", () => {
  it("lists every optional (platform) package that a locked package declares", () => {
    expect(missingOptionalEntries()).toEqual([]);
  });

  it("holds darwin and win32 builds of every native tool that has platform builds", () => {
    const platforms = new Set(Object.values(lock.packages).flatMap((entry) => entry.os ?? []));
    expect(platforms).toContain("darwin");
    expect(platforms).toContain("win32");
    expect(platforms).toContain("linux");
  });
});
