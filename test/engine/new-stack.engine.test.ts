import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { decide } from "../../scripts/stacks/lifecycle-tags.ts";
import { type EngineTools, engineEnv, findEngine, repoRoot } from "./harness";

/** scripts/new-ephemeral-stack.sh against the real CLI, in a copy of the files it uses. */

let tools: EngineTools | undefined;
let root: string;
let stateDir: string;

function script(args: string[]) {
  const env = { ...process.env, ...engineEnv(tools as EngineTools, stateDir) };
  return spawnSync("bash", [path.join(root, "scripts/new-ephemeral-stack.sh"), ...args], { encoding: "utf8", env });
}

beforeAll(async () => {
  tools = await findEngine();
  if (!tools) return;
  root = mkdtempSync(path.join(tmpdir(), "backbone-new-stack-"));
  stateDir = mkdtempSync(path.join(tmpdir(), "backbone-new-stack-state-"));
  for (const dir of ["scripts", "stacks/profiles"]) mkdirSync(path.join(root, dir), { recursive: true });
  for (const file of ["Pulumi.yaml", "scripts/new-ephemeral-stack.sh", "stacks/profiles/ephemeral.yaml"]) {
    cpSync(path.join(repoRoot, file), path.join(root, file));
  }
});

afterAll(() => {
  for (const dir of [root, stateDir]) if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("new-ephemeral-stack.sh", () => {
  it("writes the stack file from the profile and tags the stack for the teardown", async (ctx) => {
    if (!tools) ctx.skip();
    const before = Date.now();
    const run = script(["pr-77", "6", "alice"]);
    expect(run.status, run.stderr).toBe(0);
    const config = parse(readFileSync(path.join(root, "Pulumi.pr-77.yaml"), "utf8")).config;
    expect(config["search-backbone:environment"]).toBe("ephemeral");
    expect(config["search-backbone:owner"]).toBe("alice");
    expect(config["search-backbone:serving"].gpu.spot).toBe(true);
    const expiresAt = config["search-backbone:expiresAt"];
    expect(Date.parse(expiresAt) - before).toBeGreaterThan(5.9 * 3600_000);

    const tags = spawnSync(
      path.join((tools as EngineTools).binDir, "pulumi"),
      ["stack", "tag", "ls", "--json", "--stack", "pr-77"],
      {
        cwd: root,
        encoding: "utf8",
        env: { ...process.env, ...engineEnv(tools as EngineTools, stateDir) },
      },
    );
    const stackTags = JSON.parse(tags.stdout);
    expect(stackTags).toMatchObject({
      ephemeral: "true",
      environment: "ephemeral",
      "expires-at": expiresAt,
      owner: "alice",
    });
    expect(decide({ name: "pr-77", tags: stackTags }, new Date()).action).toBe("keep");
    expect(decide({ name: "pr-77", tags: stackTags }, new Date(Date.parse(expiresAt) + 1000)).action).toBe("destroy");
  });

  it("rejects a bad name, a long-lived stack name, a bad TTL and a bad owner before touching anything", async (ctx) => {
    if (!tools) ctx.skip();
    expect(script(["PR_1"]).stderr).toContain("stack name 'PR_1': expected 2-30 lowercase letters");
    expect(script(["prod"]).stderr).toContain("stack name 'prod': the long-lived stacks are never ephemeral");
    expect(script(["pr-1", "100"]).stderr).toContain("ttl-hours '100': expected a whole number from 1 to 72");
    expect(script(["pr-1", "4", "a b"]).stderr).toContain("owner 'a b': expected 1-64 letters");
    for (const args of [["PR_1"], ["prod"], ["pr-1", "100"]]) expect(script(args).status).toBe(2);
  });
});
