import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readRepoFile, repoRoot } from "../helpers/stack-files";

/**
 * How scripts/pulumi-engine.sh chooses a CLI. A stand-in `pulumi` that only answers `version` is
 * enough here: the choice is the script's, and the engine suites run the real CLI it provides.
 * Building is switched off (BACKBONE_ENGINE_NO_BUILD), so any attempt to build fails the run.
 */
const pinned = JSON.parse(readRepoFile("package-lock.json")).packages["node_modules/@pulumi/pulumi"].version as string;

function fakeCli(version: string, withHost = true): string {
  const dir = mkdtempSync(join(tmpdir(), "fake-pulumi-"));
  const write = (name: string, body: string) => {
    writeFileSync(join(dir, name), body);
    chmodSync(join(dir, name), 0o755);
  };
  write("pulumi", `#!/bin/sh\n[ "$1" = version ] && echo v${version}\n`);
  if (withHost) write("pulumi-language-nodejs", "#!/bin/sh\nexit 0\n");
  return dir;
}

function runEngineScript(pathDir: string) {
  const scratch = mkdtempSync(join(tmpdir(), "engine-script-"));
  mkdirSync(join(scratch, "cache"));
  const result = spawnSync("bash", [join(repoRoot, "scripts/pulumi-engine.sh")], {
    encoding: "utf8",
    env: {
      ...process.env,
      PATH: `${pathDir}:${process.env.PATH}`,
      BACKBONE_TOOLS_DIR: join(scratch, "tools"),
      XDG_CACHE_HOME: join(scratch, "cache"),
      BACKBONE_ENGINE_NO_BUILD: "1",
    },
  });
  return { ...result, binDir: result.stdout.trim() };
}

const bump = (version: string, minor: number) => version.replace(/^(\d+)\.(\d+)\./, (_, a, b) => `${a}.${+b + minor}.`);

describe("scripts/pulumi-engine.sh", () => {
  it.each([
    ["the pinned version", pinned],
    ["a newer version", bump(pinned, 11)],
  ])("uses %s found on PATH, with a one-line notice, and builds nothing", (_, version) => {
    const cli = fakeCli(version);
    const result = runEngineScript(cli);
    expect(result.stderr).toContain(`using ${join(cli, "pulumi")} v${version} from PATH`);
    expect(result.stderr).not.toContain("building");
    expect(result.status).toBe(0);
    expect(readlinkSync(join(result.binDir, "pulumi"))).toBe(join(cli, "pulumi"));
    expect(readlinkSync(join(result.binDir, "pulumi-language-nodejs"))).toBe(join(cli, "pulumi-language-nodejs"));
  });

  it.each([
    ["an older CLI", fakeCli(bump(pinned, -1))],
    ["a CLI without a Node.js language host", fakeCli(pinned, false)],
  ])("does not use %s: it falls back to building the pinned one", (_, cli) => {
    const result = runEngineScript(cli);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`pulumi v${pinned} is not installed`);
  });
});
