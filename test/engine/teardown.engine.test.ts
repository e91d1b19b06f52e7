import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { teardown } from "../../scripts/stacks/teardown.ts";
import { MALFORMED_EXPIRIES } from "../helpers/expiries";
import { GuardedFile } from "./fixtures/guarded-file";
import { type EngineTools, engineEnv, findEngine, repoRoot } from "./harness";

/**
 * The teardown on a file backend holding several stacks of one project, each with a real resource
 * (a file): expired ephemeral stacks, long-lived stacks mislabelled as expired ephemeral ones (by
 * name, by their committed stack file, by the config of their last update, by their resources' tags,
 * by a protected resource), malformed expiries, and an ephemeral stack whose destroy fails. Exactly
 * the expired ephemeral stacks must go, their files with them. The project folder is a git checkout
 * whose committed stack file for staging says dev while its working copy says ephemeral. Last,
 * `--only <stack>` (what pr-close.yml runs) destroys a stack due now and keeps every long-lived one.
 */

const project = "teardown-check";
const NOW = new Date("2026-11-22T12:00:00Z");
const PAST = "2026-11-22T08:00:00Z";
const FUTURE = "2026-11-22T20:00:00Z";

const EXPIRED = { ephemeral: "true", environment: "ephemeral", "expires-at": PAST, owner: "ci" };

/** name → stack tags. Every stack but pr-1 and pr-4 must survive. */
const STACKS: Record<string, Record<string, string>> = {
  "pr-1": EXPIRED,
  "pr-2": { ...EXPIRED, "expires-at": FUTURE },
  "pr-3": { environment: "ephemeral", "expires-at": PAST, owner: "ci" },
  "pr-4": EXPIRED,
  // Not expired: only `teardown --only pr-7` (its PR closed) destroys it.
  "pr-7": { ...EXPIRED, "expires-at": FUTURE },
  "tagged-prod": { ...EXPIRED, environment: "prod" },
  // Long-lived stacks that one mistaken `pulumi stack tag set` made look like expired ephemeral ones.
  prod: EXPIRED,
  staging: EXPIRED,
  "was-dev": EXPIRED,
  "prod-data": EXPIRED,
  vault: EXPIRED,
  // Every malformed shape of expiry; a few go through the engine, all through the decision's tests.
  "bad-text": { ...EXPIRED, "expires-at": "ttl 12" },
  "bad-date-only": { ...EXPIRED, "expires-at": "2026-11-22" },
  "bad-no-zone": { ...EXPIRED, "expires-at": "2026-11-22T08:00:00" },
  "bad-day": { ...EXPIRED, "expires-at": "2026-02-30T08:00:00Z" },
};
const SURVIVORS = Object.keys(STACKS).filter((n) => n !== "pr-1" && n !== "pr-4");

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
    const pulumi = require("@pulumi/pulumi");
    const name = pulumi.getStack();
    const tags = name === "prod-data" ? { environment: "prod" } : { environment: "ephemeral" };
    new GuardedFile("data", { path: fileOf(name), content: name, tags }, { protect: name === "vault" });
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
    // was-dev last ran with environment dev; its stack file is gone, only the backend's history has it.
    if (name === "was-dev") await stack.setConfig("environment", { value: "dev" });
    await stack.up();
    if (name === "was-dev") rmSync(path.join(workDir, "Pulumi.was-dev.yaml"));
    for (const [key, value] of Object.entries(tags)) await stack.workspace.setTag(name, key, value);
  };
  // Two at a time: separate stacks share nothing in the backend but the project folder.
  const entries = Object.entries(STACKS);
  for (let i = 0; i < entries.length; i += 2) await Promise.all(entries.slice(i, i + 2).map(([n, t]) => create(n, t)));
  // pr-4's resource refuses deletion, so its destroy fails.
  writeFileSync(`${fileOf("pr-4")}.keep`, "");
  // staging has a committed stack file saying it is a dev environment; a local edit says otherwise.
  const git = (...args: string[]) => {
    const run = spawnSync("git", ["-C", workDir, "-c", "user.name=t", "-c", "user.email=t@example.com", ...args], {
      encoding: "utf8",
    });
    if (run.status !== 0) throw new Error(`git ${args.join(" ")}: ${run.stderr}`);
  };
  git("init", "--quiet");
  writeFileSync(path.join(workDir, "Pulumi.staging.yaml"), "config:\n  teardown-check:environment: dev\n");
  git("add", "Pulumi.staging.yaml");
  git("commit", "--quiet", "--no-gpg-sign", "-m", "staging is a dev environment");
  writeFileSync(path.join(workDir, "Pulumi.staging.yaml"), "config:\n  teardown-check:environment: ephemeral\n");
});

afterAll(() => {
  for (const dir of [workDir, stateDir, files]) if (dir) rmSync(dir, { recursive: true, force: true });
});

const cli = (...args: string[]) =>
  spawnSync(
    process.execPath,
    [path.join(repoRoot, "scripts/stacks/teardown.ts"), "--work-dir", workDir, "--now", NOW.toISOString(), ...args],
    { encoding: "utf8", env: { ...process.env, ...envVars } },
  );

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
    expect(byStack["tagged-prod"]).toMatchObject({ action: "kept", reason: "environment is prod" });
    expect(byStack.prod).toMatchObject({ action: "kept", reason: 'stack name "prod" is long-lived (protected)' });
    expect(byStack.staging).toMatchObject({
      action: "kept",
      reason: 'Pulumi.staging.yaml (committed) sets environment "dev", not "ephemeral"',
    });
    expect(byStack["was-dev"]).toMatchObject({
      action: "kept",
      reason: `the last update's config is "dev", not "ephemeral"`,
    });
    expect(byStack["prod-data"]).toMatchObject({ action: "kept", reason: "environment is prod" });
    expect(byStack.vault?.action).toBe("kept");
    expect(byStack.vault?.reason).toMatch(/^its state holds 1 protected resource\(s\), e\.g\. urn:pulumi:vault::/);
    for (const name of ["bad-text", "bad-date-only", "bad-no-zone", "bad-day"]) {
      const value = JSON.stringify(STACKS[name]?.["expires-at"]);
      expect(byStack[name], name).toMatchObject({
        action: "kept",
        reason: `no valid expires-at tag (${value}; expected RFC 3339 with a time zone)`,
      });
    }
    expect(MALFORMED_EXPIRIES).toEqual(expect.arrayContaining(["ttl 12", "2026-11-22", "2026-11-22T08:00:00"]));
    expect(report.failed).toBe(0);
    expect(await stackNames()).toEqual(Object.keys(STACKS).sort());
    for (const name of Object.keys(STACKS)) expect(existsSync(fileOf(name)), name).toBe(true);
  });

  it("the CLI dry run prints the same report as JSON and destroys nothing", async (ctx) => {
    if (!tools) ctx.skip();
    const run = cli();
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
    expect(cli("--yes").status).toBe(1);
    rmSync(`${fileOf("pr-4")}.keep`);
    const run = cli("--yes");
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).stacks.find((s: any) => s.stack === "pr-4").action).toBe("destroyed");
    expect(existsSync(fileOf("pr-4"))).toBe(false);
    expect(await stackNames()).toEqual([...SURVIVORS].sort());
    for (const name of SURVIVORS) expect(existsSync(fileOf(name)), name).toBe(true);
  });
});

describe("teardown --only <stack>: a closed PR's stack, due now", () => {
  it("keeps prod mislabelled as an expired ephemeral stack, and exits 1", async (ctx) => {
    if (!tools) ctx.skip();
    const run = cli("--yes", "--only", "prod");
    expect(run.status, run.stderr).toBe(1);
    expect(JSON.parse(run.stdout)).toMatchObject({
      only: "prod",
      stacks: [{ stack: "prod", action: "kept", reason: 'stack name "prod" is long-lived (protected)' }],
      failed: 0,
    });
    expect(run.stderr).toContain('teardown: kept prod: stack name "prod" is long-lived (protected)');
    expect(await stackNames()).toContain("prod");
    expect(existsSync(fileOf("prod"))).toBe(true);
  });

  it("keeps a stack whose committed stack file says dev, whatever its working copy says", async (ctx) => {
    if (!tools) ctx.skip();
    const run = cli("--yes", "--only", "staging");
    expect(run.status, run.stderr).toBe(1);
    expect(JSON.parse(run.stdout).stacks).toEqual([
      {
        stack: "staging",
        action: "kept",
        reason: 'Pulumi.staging.yaml (committed) sets environment "dev", not "ephemeral"',
      },
    ]);
    expect(existsSync(fileOf("staging"))).toBe(true);
  });

  it("keeps one named in --protected-stacks, and one whose state holds a protected resource", async (ctx) => {
    if (!tools) ctx.skip();
    const named = cli("--yes", "--only", "pr-2", "--protected-stacks", "dev,pr-2");
    expect(named.status, named.stderr).toBe(1);
    expect(JSON.parse(named.stdout).stacks[0]).toMatchObject({ stack: "pr-2", action: "kept" });
    const vault = cli("--yes", "--only", "vault");
    expect(vault.status, vault.stderr).toBe(1);
    expect(JSON.parse(vault.stdout).stacks[0].reason).toMatch(/^its state holds 1 protected resource/);
    expect(existsSync(fileOf("pr-2")) && existsSync(fileOf("vault"))).toBe(true);
  });

  it("destroys and removes an ephemeral stack before its expiry, and touches no other", async (ctx) => {
    if (!tools) ctx.skip();
    const dry = cli("--only", "pr-7");
    expect(dry.status, dry.stderr).toBe(0);
    expect(JSON.parse(dry.stdout).stacks).toEqual([
      { stack: "pr-7", action: "would-destroy", reason: "due now (requested by name; expires-at not consulted)" },
    ]);
    expect(existsSync(fileOf("pr-7"))).toBe(true);
    const run = cli("--yes", "--only", "pr-7");
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).stacks).toEqual([
      {
        stack: "pr-7",
        action: "destroyed",
        reason: "due now (requested by name; expires-at not consulted)",
        resourcesDeleted: 2,
      },
    ]);
    expect(existsSync(fileOf("pr-7"))).toBe(false);
    const rest = SURVIVORS.filter((n) => n !== "pr-7");
    expect(await stackNames()).toEqual([...rest].sort());
    for (const name of rest) expect(existsSync(fileOf(name)), name).toBe(true);
  });

  it("reports a stack the backend does not have as absent, and exits 0", async (ctx) => {
    if (!tools) ctx.skip();
    const run = cli("--yes", "--only", "pr-7");
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).stacks).toEqual([
      { stack: "pr-7", action: "absent", reason: "the backend has no such stack; nothing to destroy" },
    ]);
  });
});
