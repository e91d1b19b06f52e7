import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { LocalWorkspace, type Stack } from "@pulumi/pulumi/automation";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EngineTools, engineEnv, findEngine, repoRoot } from "./harness";

/**
 * The project's own program, run by the real CLI and our Node.js language host (TypeScript,
 * Pulumi.yaml config declarations, stack config). Cloud providers cannot be installed here, so it
 * exercises the path that must not reach them: a bad configuration stops the program first.
 */

// The workspace packages (@search-backbone/relevance) resolve through the node_modules link below, to
// their builds in the repository (`npm run build:packages`, run by `prepare` and by test:engine).
const PROGRAM_FILES = ["Pulumi.yaml", "package.json", "tsconfig.json", "index.ts", "stacks", "components"];
let tools: EngineTools | undefined;
let workDir: string;
let stateDir: string;
let stack: Stack;

beforeAll(async () => {
  tools = await findEngine();
  if (!tools) return;
  workDir = mkdtempSync(path.join(tmpdir(), "backbone-program-"));
  stateDir = mkdtempSync(path.join(tmpdir(), "backbone-program-state-"));
  for (const file of PROGRAM_FILES) cpSync(path.join(repoRoot, file), path.join(workDir, file), { recursive: true });
  symlinkSync(path.join(repoRoot, "node_modules"), path.join(workDir, "node_modules"));
  stack = await LocalWorkspace.createOrSelectStack(
    { stackName: "engine-config", workDir },
    { pulumiCommand: tools.command, envVars: engineEnv(tools, stateDir) },
  );
});

afterAll(() => {
  for (const dir of [workDir, stateDir]) if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("the project program under the real engine", () => {
  it("reports every configuration problem once, without a stack trace, and creates nothing", async (ctx) => {
    if (!tools) ctx.skip();
    // A stack file as an engineer would write it, with three mistakes in it.
    const stackFile = readFileSync(path.join(repoRoot, "Pulumi.dev.yaml"), "utf8")
      .replace(/\n\s+- zone: cn-hangzhou-k\n\s+cidr: 10.20.16.0\/20/, "")
      .replace("bm25Weight: 0.3", "bm25Weight: 0.6")
      .replace("instanceType: ecs.gn7i-c8g1.2xlarge", "instanceType: ecs.g7.xlarge");
    writeFileSync(path.join(workDir, "Pulumi.engine-config.yaml"), stackFile);
    const error = await stack.preview().then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error).toBeDefined();
    // What the CLI printed (CommandError's own text repeats stderr inside its `err` field).
    const { stdout, stderr } = (error as unknown as { commandResult: { stdout: string; stderr: string } })
      .commandResult;
    const text = stdout + stderr;
    expect(text).toContain('Configuration of stack "engine-config" has 3 problems; nothing was created:');
    expect(text).toContain("search-backbone:network.vswitches: given [");
    expect(text).toContain("expected vSwitches in at least 2 distinct zones for a dev stack, got 1");
    expect(text).toContain("expected bm25Weight + vectorWeight to sum to 1, got 0.6 + 0.7 = 1.3");
    expect(text).toContain('search-backbone:serving.gpu.instanceType: given "ecs.g7.xlarge"; expected a gn7i GPU type');
    // Each problem is printed once: the message is the program's only diagnostic.
    expect(text.split("expected a gn7i GPU type").length - 1).toBe(1);
    expect(text).not.toMatch(/\bat (Object|Module)\.|load\.ts:\d+/);
    expect(text).not.toMatch(/\+ +alicloud:/);
  });

  it("lets Pulumi itself reject a stack that lacks the required keys, naming all of them", async (ctx) => {
    if (!tools) ctx.skip();
    writeFileSync(path.join(workDir, "Pulumi.engine-config.yaml"), "config: {}\n");
    const error = await stack.preview().then(
      () => undefined,
      (e: Error) => e,
    );
    // Pulumi walks the declarations in map order, so only the set of keys is stable.
    expect(String(error)).toContain("Stack 'engine-config' is missing configuration values");
    for (const key of ["environment", "region", "owner"]) expect(String(error)).toContain(`'search-backbone:${key}'`);
    // Keys with a default in Pulumi.yaml are not Pulumi's to require: network defaults to {} because a
    // stack on an existing cluster makes no VPC; the config rules require its vSwitches where ACK is made.
    for (const key of ["storage", "network"]) expect(String(error)).not.toContain(`'search-backbone:${key}'`);
  });
});
