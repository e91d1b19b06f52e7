import { describe, expect, it } from "vitest";
import { readRepoFile } from "../helpers/stack-files";

/**
 * The tests run on the Node.js the project pins (the npm package `node` in devDependencies puts it
 * into node_modules/.bin, ahead of the machine's node for every npm script), not on whatever the
 * machine has: Node 20 reached end of life in April 2026 (https://nodejs.org/en/about/previous-releases).
 */
describe("runtime", () => {
  const pkg = JSON.parse(readRepoFile("package.json"));
  const major = (version: string) => Number(version.replace(/^[^\d]*/, "").split(".")[0]);

  it("runs the tests on the pinned Node.js major, which satisfies engines.node", () => {
    const pinned = pkg.devDependencies.node as string;
    expect(process.versions.node.split(".")[0]).toBe(String(major(pinned)));
    expect(major(process.versions.node)).toBeGreaterThanOrEqual(major(pkg.engines.node));
  });

  it("pins the Pulumi SDK exactly, so the CLI built or found for it can match", () => {
    expect(pkg.dependencies["@pulumi/pulumi"]).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
