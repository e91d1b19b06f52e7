import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../helpers/stack-files";

/** Runs the lint step's path check in a scratch repository holding one tracked file. */
function checkRepoWith(file: string, text: string) {
  const dir = mkdtempSync(join(tmpdir(), "check-paths-"));
  execFileSync("git", ["init", "-q", dir]);
  writeFileSync(join(dir, file), text);
  execFileSync("git", ["-C", dir, "add", file]);
  return spawnSync(process.execPath, [join(repoRoot, "scripts/check-paths.mjs")], { cwd: dir, encoding: "utf8" });
}

describe("scripts/check-paths.mjs (part of npm run lint)", () => {
  const workspace = ["", "work", "shared", "reference", "x.md"].join("/");

  it.each([
    ["a build machine's workspace", `// see ${workspace}`],
    ["a home folder", `cache=${["", "root", ".cache"].join("/")}/x`],
    ["a sibling folder", `cite ${["..", "shared", "reference"].join("/")}/apis.md`],
  ])("fails on %s and names the line", (_, line) => {
    const result = checkRepoWith("notes.ts", `const ok = 1;\n${line}\n`);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("notes.ts:2:");
  });

  it("passes on public URLs, relative paths inside the repository and system paths", () => {
    const text = "https://www.alibabacloud.com/help/en/oss/\n./scripts/setup.sh\n/usr/bin/env node\n$HOME/.cache\n";
    expect(checkRepoWith("ok.sh", text).status).toBe(0);
  });

  it("passes on this repository", () => {
    const result = spawnSync(process.execPath, [join(repoRoot, "scripts/check-paths.mjs")], {
      cwd: repoRoot,
      encoding: "utf8",
    });
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
  });
});
