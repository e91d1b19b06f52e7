/**
 * A stack's `Pulumi.<stack>.yaml`, read for the teardown's keep rules (scripts/stacks/lifecycle-tags.ts).
 *
 * Inside a git checkout the committed file (HEAD) is what counts: it is read from git, not from the
 * folder, so a local edit or deletion cannot lift the guard it sets. A working copy that differs from
 * it, or a file that was never committed (scripts/new-ephemeral-stack.sh writes one per PR stack), is
 * read as well: every source must agree that a stack is ephemeral, so an extra file can only add a
 * reason to keep. Outside a git checkout (or where git cannot read it) the folder's file is read.
 * Files are read directly, never through the CLI, which would create them.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import type { StackFile } from "./lifecycle-tags.ts";

/** Reads one stack file's text as the teardown sees it; `file` is the label its reasons quote. */
export function readStackFile(file: string, text: string): StackFile {
  try {
    const config = parse(text)?.config;
    if (typeof config !== "object" || config === null) return { file, hasConfig: false };
    const environment = Object.entries(config).find(([key]) => key.endsWith(":environment"))?.[1];
    if (environment === undefined) return { file, hasConfig: true };
    const value = typeof environment === "string" ? environment : JSON.stringify(environment);
    return { file, hasConfig: true, environment: value };
  } catch (error) {
    return { file, hasConfig: true, error: (error as Error).message.split("\n")[0] as string };
  }
}

const git = (workDir: string, args: string[]) =>
  spawnSync("git", ["-C", workDir, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

/** Whether workDir lies in a git work tree with at least one commit. */
function inCheckout(workDir: string): boolean {
  const inside = git(workDir, ["rev-parse", "--is-inside-work-tree"]);
  if (inside.error || inside.status !== 0 || inside.stdout.trim() !== "true") return false;
  return git(workDir, ["rev-parse", "--verify", "--quiet", "HEAD"]).status === 0;
}

/** Every version of the stack's file that the teardown must respect: committed first. */
export function stackFilesOf(workDir: string, stackName: string): StackFile[] {
  const name = `Pulumi.${stackName.split("/").pop()}.yaml`;
  const full = path.join(workDir, name);
  const local = existsSync(full) ? readFileSync(full, "utf8") : undefined;
  if (!inCheckout(workDir)) return local === undefined ? [] : [readStackFile(name, local)];
  // `HEAD:./<file>` is relative to -C's folder, so a project in a subfolder of the repository works.
  const committed = git(workDir, ["show", `HEAD:./${name}`]);
  const files: StackFile[] = [];
  if (committed.status === 0) files.push(readStackFile(`${name} (committed)`, committed.stdout));
  if (local !== undefined && (committed.status !== 0 || local !== committed.stdout)) {
    files.push(readStackFile(`${name} (${committed.status === 0 ? "working copy" : "not committed"})`, local));
  }
  return files;
}
