import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { teardown } from "../../scripts/stacks/teardown.ts";
import { GuardedFile } from "./fixtures/guarded-file";
import { type EngineTools, engineEnv, findEngine, repoRoot } from "./harness";

/**
 * The teardown on a file backend holding several stacks of one project, each with a real resource
 * (a file). Exactly the expired ephemeral stacks must go, their files with them.
 */

const project = "teardown-check";
const NOW = new Date("2026-11-22T12:00:00Z");
const PAST = "2026-11-22T08:00:00Z";
const FUTURE = "2026-11-22T20:00:00Z";

/** name → stack tags. */
const STACKS: Record<string, Record<string, string>> = {
  "pr-1": { ephemeral: "true", environment: "ephemeral", "expires-at": PAST, owner: "ci" },
  "pr-2": { ephemeral: "true", environment: "ephemeral", "expires-at": FUTURE, owner: "ci" },
  "pr-3": { environment: "ephemeral", "expires-at": PAST, owner: "ci" },
  "pr-4": { ephemeral: "true", environment: "ephemeral", "expires-at": PAST, owner: "ci" },
  prod: { ephemeral: "true", environment: "prod", "expires-at": PAST, owner: "ci" },
};

let tools: EngineTools | undefined;
let workDir: string;
let stateDir: string;
let files: string;
let envVars: Record<string, string>;
const fileOf = (stack: string) => path.join(files, `${stack}.txt`);

async function stackNames(): Promise<string[]> {
  const workspace = await LocalWorkspace.create({ workDir, envVars, pulumiCommand: tools?.command });
  return (await workspace.listStacks()).map((s) => s.name).sort();
}

beforeAll(async () => {
  tools = await findEngine();
  if (!tools) return;
  workDir = mkdtempSync(path.join(tmpdir(), "backbone-teardown-"));
  stateDir = mkdtempSync(path.join(tmpdir(), "backbone-teardown-state-"));
  files = mkdtempSync(path.join(tmpdir(), "backbone-teardown-files-"));
  envVars = engineEnv(tools, stateDir);
  const program = async () => {
    const name = require("@pulumi/pulumi").getStack();
    new GuardedFile("data", { path: fileOf(name), content: name });
  };
  const settings = { name: project, runtime: "nodejs" as const, backend: { url: `file://${stateDir}` } };
  const create = async (name: string, tags: Record<string, string>) => {
    const stack = await LocalWorkspace.createOrSelectStack(
      { stackName: name, projectName: project, program },
      {
        workDir,
        pulumiCommand: tools?.command,
        envVars,
        projectSettings: settings,
      },
    );
    await stack.up();
    for (const [key, value] of Object.entries(tags)) await stack.workspace.setTag(name, key, value);
  };
  // Two at a time: separate stacks share nothing in the backend but the project folder.
  const entries = Object.entries(STACKS);
  for (let i = 0; i < entries.length; i += 2) await Promise.all(entries.slice(i, i + 2).map(([n, t]) => create(n, t)));
  // pr-4's resource refuses deletion, so its destroy fails.
  writeFileSync(`${fileOf("pr-4")}.keep`, "");
});

afterAll(() => {
  for (const dir of [workDir, stateDir, files]) if (dir) rmSync(dir, { recursive: true, force: true });
});

const options = () => ({ workDir, now: NOW, workspace: { pulumiCommand: tools?.command, envVars } });

describe("teardown of expired ephemeral stacks", () => {
  it("by default only reports what it would destroy", async (ctx) => {
    if (!tools) ctx.skip();
    const report = await teardown({ ...options(), dryRun: true });
    const byStack = Object.fromEntries(report.stacks.map((s) => [s.stack, s]));
    expect(byStack["pr-1"]).toMatchObject({ action: "would-destroy", reason: `expired at ${PAST}` });
    expect(byStack["pr-4"]?.action).toBe("would-destroy");
    expect(byStack["pr-2"]).toMatchObject({ action: "kept", reason: `not expired (expires ${FUTURE})` });
    expect(byStack["pr-3"]).toMatchObject({ action: "kept", reason: "no ephemeral=true marker" });
    expect(byStack.prod).toMatchObject({ action: "kept", reason: "environment is prod" });
    expect(report.failed).toBe(0);
    expect(await stackNames()).toEqual(Object.keys(STACKS).sort());
    for (const name of Object.keys(STACKS)) expect(existsSync(fileOf(name)), name).toBe(true);
  });

  it("the CLI dry run prints the same report as JSON and destroys nothing", async (ctx) => {
    if (!tools) ctx.skip();
    const run = spawnSync(
      process.execPath,
      [path.join(repoRoot, "scripts/stacks/teardown.ts"), "--work-dir", workDir, "--now", NOW.toISOString()],
      { encoding: "utf8", env: { ...process.env, ...envVars } },
    );
    expect(run.status, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.dryRun).toBe(true);
    expect(report.stacks.filter((s: any) => s.action === "would-destroy").map((s: any) => s.stack)).toEqual([
      "pr-1",
      "pr-4",
    ]);
    expect(await stackNames()).toHaveLength(Object.keys(STACKS).length);
  });

  it("with --yes destroys exactly the expired ephemeral stacks, goes on past a failed one and reports it", async (ctx) => {
    if (!tools) ctx.skip();
    const report = await teardown({ ...options(), dryRun: false });
    const byStack = Object.fromEntries(report.stacks.map((s) => [s.stack, s]));
    expect(byStack["pr-1"]).toMatchObject({ action: "destroyed", resourcesDeleted: 2 });
    expect(byStack["pr-4"]?.action).toBe("failed");
    expect(byStack["pr-4"]?.error).toContain("refusing to delete");
    expect(report.failed).toBe(1);
    // pr-1 is gone with its resource; every other stack and its resource is untouched.
    expect(existsSync(fileOf("pr-1"))).toBe(false);
    expect(await stackNames()).toEqual(
      Object.keys(STACKS)
        .filter((n) => n !== "pr-1")
        .sort(),
    );
    for (const name of Object.keys(STACKS).filter((n) => n !== "pr-1"))
      expect(existsSync(fileOf(name)), name).toBe(true);
  });

  it("the CLI exits non-zero while a destroy keeps failing, and removes the stack once it succeeds", async (ctx) => {
    if (!tools) ctx.skip();
    const cli = () =>
      spawnSync(
        process.execPath,
        [path.join(repoRoot, "scripts/stacks/teardown.ts"), "--yes", "--work-dir", workDir, "--now", NOW.toISOString()],
        { encoding: "utf8", env: { ...process.env, ...envVars } },
      );
    expect(cli().status).toBe(1);
    rmSync(`${fileOf("pr-4")}.keep`);
    const run = cli();
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).stacks.find((s: any) => s.stack === "pr-4").action).toBe("destroyed");
    expect(existsSync(fileOf("pr-4"))).toBe(false);
    expect(await stackNames()).toEqual(["pr-2", "pr-3", "prod"]);
  });
});
