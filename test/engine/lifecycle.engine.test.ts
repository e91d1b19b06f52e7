import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalFile } from "./fixtures/local-file";
import {
  createEngineStack,
  type EngineStack,
  type EngineTools,
  findEngine,
  pinnedCliVersion,
  stateFileExists,
} from "./harness";

const project = "backbone-engine-lifecycle";
const stackName = "lifecycle";
const files = mkdtempSync(path.join(tmpdir(), "backbone-files-"));
let tools: EngineTools | undefined;
let engine: EngineStack;

/** The program reads what to write from stack config, so tests change inputs through config. */
const program = async () => {
  const config = new pulumi.Config();
  const file = new LocalFile("greeting", {
    path: path.join(files, config.require("fileName")),
    content: config.require("content"),
  });
  return { path: file.path, sha256: file.sha256 };
};

beforeAll(async () => {
  tools = await findEngine();
  if (!tools) return;
  engine = await createEngineStack(tools, project, program, stackName);
  await engine.stack.setAllConfig({ fileName: { value: "a.txt" }, content: { value: "hello" } });
});

afterAll(() => engine?.cleanup());

describe("the real engine on a file backend", () => {
  it("finds a CLI at least as new as the pinned SDK (or skips outside CI)", async (ctx) => {
    if (!tools) ctx.skip();
    const sdk = require("@pulumi/pulumi/package.json").version;
    expect(pinnedCliVersion()).toBe(sdk);
    expect(tools?.command.version?.compare(sdk)).toBeGreaterThanOrEqual(0);
  });

  it("up creates the dynamic resource", async (ctx) => {
    if (!tools) ctx.skip();
    const result = await engine.stack.up();
    expect(result.summary.result).toBe("succeeded");
    expect(result.summary.resourceChanges).toMatchObject({ create: 2 });
    expect(readFileSync(path.join(files, "a.txt"), "utf8")).toBe("hello");
    expect(result.outputs.sha256?.value).toMatch(/^[0-9a-f]{64}$/);
    expect(stateFileExists(engine.stateDir, project, stackName)).toBe(true);
  });

  it("preview afterwards reports no change", async (ctx) => {
    if (!tools) ctx.skip();
    const preview = await engine.stack.preview();
    expect(preview.changeSummary).toEqual({ same: 2 });
  });

  it("a changed input previews and applies as an in-place update", async (ctx) => {
    if (!tools) ctx.skip();
    await engine.stack.setConfig("content", { value: "hello again" });
    const preview = await engine.stack.preview();
    expect(preview.changeSummary).toEqual({ same: 1, update: 1 });
    const up = await engine.stack.up();
    expect(up.summary.resourceChanges).toMatchObject({ update: 1 });
    expect(readFileSync(path.join(files, "a.txt"), "utf8")).toBe("hello again");
  });

  it("a changed replace-on input previews and applies as a replacement", async (ctx) => {
    if (!tools) ctx.skip();
    await engine.stack.setConfig("fileName", { value: "b.txt" });
    const preview = await engine.stack.preview();
    expect(preview.changeSummary).toEqual({ same: 1, replace: 1 });
    const up = await engine.stack.up();
    expect(up.summary.resourceChanges).toMatchObject({ replace: 1 });
    expect(existsSync(path.join(files, "a.txt"))).toBe(false);
    expect(readFileSync(path.join(files, "b.txt"), "utf8")).toBe("hello again");
  });

  it("destroy deletes the resource and the stack is removed", async (ctx) => {
    if (!tools) ctx.skip();
    const destroyed = await engine.stack.destroy();
    expect(destroyed.summary.resourceChanges).toMatchObject({ delete: 2 });
    expect(existsSync(path.join(files, "b.txt"))).toBe(false);
    await engine.stack.workspace.removeStack(stackName);
    const stacks = await engine.stack.workspace.listStacks();
    expect(stacks.map((s) => s.name)).not.toContain(stackName);
    expect(stateFileExists(engine.stateDir, project, stackName)).toBe(false);
  });
});
