import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { readStackFile, stackFilesOf } from "../../scripts/stacks/stack-files.ts";

/** Which versions of `Pulumi.<stack>.yaml` the teardown reads, in real folders and real git checkouts. */

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const folder = () => {
  const dir = mkdtempSync(path.join(tmpdir(), "backbone-stack-files-"));
  dirs.push(dir);
  return dir;
};
const env = (environment: string) => `config:\n  search-backbone:environment: ${environment}\n`;

function git(dir: string, ...args: string[]) {
  const run = spawnSync(
    "git",
    ["-C", dir, "-c", "user.name=test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false", ...args],
    { encoding: "utf8" },
  );
  expect(run.status, run.stderr).toBe(0);
}

/** A git checkout whose first commit holds the given files. */
function checkout(files: Record<string, string>): string {
  const dir = folder();
  git(dir, "init", "--quiet");
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  git(dir, "add", "--all");
  git(dir, "commit", "--quiet", "--allow-empty", "-m", "first");
  return dir;
}

describe("reading one stack file", () => {
  it("reads the environment, a file without config, and a file that is not YAML", () => {
    expect(readStackFile("f", env("dev"))).toEqual({ file: "f", hasConfig: true, environment: "dev" });
    expect(readStackFile("f", "encryptionsalt: v1:abc\n")).toEqual({ file: "f", hasConfig: false });
    expect(readStackFile("f", "config:\n  search-backbone:region: x\n")).toEqual({ file: "f", hasConfig: true });
    expect(readStackFile("f", env("{ a: 1 }")).environment).toBe('{"a":1}');
    expect(readStackFile("f", "config: [\n").error).toMatch(/./);
  });
});

describe("which versions of a stack file the teardown reads", () => {
  it("outside a git checkout: the folder's file, if any", () => {
    const dir = folder();
    expect(stackFilesOf(dir, "staging")).toEqual([]);
    writeFileSync(path.join(dir, "Pulumi.staging.yaml"), env("dev"));
    expect(stackFilesOf(dir, "staging")).toEqual([
      { file: "Pulumi.staging.yaml", hasConfig: true, environment: "dev" },
    ]);
    expect(stackFilesOf(dir, "org/project/staging")).toHaveLength(1);
  });

  it("in a checkout: the committed file, also when the working copy is the same", () => {
    const dir = checkout({ "Pulumi.staging.yaml": env("dev") });
    expect(stackFilesOf(dir, "staging")).toEqual([
      { file: "Pulumi.staging.yaml (committed)", hasConfig: true, environment: "dev" },
    ]);
  });

  it("a local edit cannot lift the committed file's guard: both are read", () => {
    const dir = checkout({ "Pulumi.staging.yaml": env("dev") });
    writeFileSync(path.join(dir, "Pulumi.staging.yaml"), env("ephemeral"));
    expect(stackFilesOf(dir, "staging")).toEqual([
      { file: "Pulumi.staging.yaml (committed)", hasConfig: true, environment: "dev" },
      { file: "Pulumi.staging.yaml (working copy)", hasConfig: true, environment: "ephemeral" },
    ]);
  });

  it("nor can deleting it locally", () => {
    const dir = checkout({ "Pulumi.staging.yaml": env("dev") });
    rmSync(path.join(dir, "Pulumi.staging.yaml"));
    expect(stackFilesOf(dir, "staging")).toEqual([
      { file: "Pulumi.staging.yaml (committed)", hasConfig: true, environment: "dev" },
    ]);
  });

  it("a file never committed (a PR stack's, from new-ephemeral-stack.sh) is read and labelled so", () => {
    const dir = checkout({ "Pulumi.yaml": "name: p\n" });
    writeFileSync(path.join(dir, "Pulumi.pr-7.yaml"), env("ephemeral"));
    expect(stackFilesOf(dir, "pr-7")).toEqual([
      { file: "Pulumi.pr-7.yaml (not committed)", hasConfig: true, environment: "ephemeral" },
    ]);
    expect(stackFilesOf(dir, "pr-8")).toEqual([]);
  });

  it("a project in a subfolder of the repository reads its own committed files", () => {
    const root = checkout({ "infra/Pulumi.prod.yaml": env("prod"), "Pulumi.prod.yaml": env("ephemeral") });
    rmSync(path.join(root, "infra/Pulumi.prod.yaml"));
    expect(stackFilesOf(path.join(root, "infra"), "prod")).toEqual([
      { file: "Pulumi.prod.yaml (committed)", hasConfig: true, environment: "prod" },
    ]);
  });

  it("a checkout without any commit yet: the folder's file, as outside git", () => {
    const dir = folder();
    git(dir, "init", "--quiet");
    writeFileSync(path.join(dir, "Pulumi.staging.yaml"), env("dev"));
    expect(stackFilesOf(dir, "staging")).toEqual([
      { file: "Pulumi.staging.yaml", hasConfig: true, environment: "dev" },
    ]);
  });
});
