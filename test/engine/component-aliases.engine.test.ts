import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalFile } from "./fixtures/local-file";
import { createEngineStack, type EngineStack, type EngineTools, findEngine } from "./harness";

/**
 * components/models moved Training, Serving and BailianModels from the stack's root under itself,
 * renamed `<models>-training` etc., with an alias to the old root-level name. This checks, through the
 * real engine, that the scheme keeps every URN: the moved component by its alias, and its children
 * (named after it, like the DLC jobs `<training>-embedding`) by the aliases the engine derives from it.
 */

const project = "backbone-engine-aliases";
const stackName = "aliases";
const files = mkdtempSync(path.join(tmpdir(), "backbone-aliases-"));
let tools: EngineTools | undefined;
let engine: EngineStack;

class Trained extends pulumi.ComponentResource {
  constructor(name: string, opts?: pulumi.ComponentResourceOptions) {
    super("backbone:training:Training", name, {}, opts);
    new LocalFile(`${name}-embedding`, { path: path.join(files, "embed.txt"), content: "run" }, { parent: this });
    this.registerOutputs({});
  }
}

class Grouped extends pulumi.ComponentResource {
  constructor(name: string) {
    super("backbone:models:Models", name, {});
    // As components/models does for its children.
    new Trained(`${name}-training`, {
      parent: this,
      aliases: [{ name: "training", parent: pulumi.rootStackResource }],
    });
    this.registerOutputs({});
  }
}

/** Config `layout` picks the program before (`root`) or after (`grouped`) the move. */
const program = async () => {
  if (new pulumi.Config().require("layout") === "root") new Trained("training");
  else new Grouped("models");
  return {};
};

beforeAll(async () => {
  tools = await findEngine();
  if (!tools) return;
  engine = await createEngineStack(tools, project, program, stackName);
});

afterAll(() => engine?.cleanup());

describe("moving root-level components under a new parent", () => {
  it("creates the root-level layout", async (ctx) => {
    if (!tools) ctx.skip();
    await engine.stack.setConfig("layout", { value: "root" });
    const up = await engine.stack.up();
    expect(up.summary.resourceChanges).toMatchObject({ create: 3 });
    expect(readFileSync(path.join(files, "embed.txt"), "utf8")).toBe("run");
  });

  it("adopts the moved component and its child: only the new parent is created, nothing replaced or deleted", async (ctx) => {
    if (!tools) ctx.skip();
    await engine.stack.setConfig("layout", { value: "grouped" });
    const preview = await engine.stack.preview();
    expect(preview.changeSummary).toEqual({ create: 1, same: 3 });
    const up = await engine.stack.up();
    expect(up.summary.resourceChanges).toEqual({ create: 1, same: 3 });
    const destroyed = await engine.stack.destroy();
    expect(destroyed.summary.resourceChanges).toMatchObject({ delete: 4 });
  });
});
