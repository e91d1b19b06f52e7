import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { detectDrift } from "../../scripts/stacks/drift.ts";
import { GuardedFile } from "./fixtures/guarded-file";
import { createEngineStack, type EngineStack, type EngineTools, findEngine } from "./harness";

/** Drift detection with the real engine: a file resource is changed behind the engine's back. */

const files = mkdtempSync(path.join(tmpdir(), "backbone-drift-"));
const target = path.join(files, "settings.txt");
let tools: EngineTools | undefined;
let engine: EngineStack;

beforeAll(async () => {
  tools = await findEngine();
  if (!tools) return;
  engine = await createEngineStack(
    tools,
    "drift-check",
    async () => {
      new GuardedFile("settings", { path: target, content: "replicas=2" });
    },
    "dev",
  );
  await engine.stack.up();
});

afterAll(() => {
  engine?.cleanup();
  rmSync(files, { recursive: true, force: true });
});

describe("nightly drift detection", () => {
  it("reports a stack in sync when nothing changed", async (ctx) => {
    if (!tools) ctx.skip();
    expect(await detectDrift(engine.stack)).toEqual({ stack: "dev", status: "in-sync", resources: [] });
  });

  it("reports the resource and property changed outside Pulumi, without writing state", async (ctx) => {
    if (!tools) ctx.skip();
    writeFileSync(target, "replicas=5");
    const entry = await detectDrift(engine.stack);
    expect(entry.status).toBe("drifted");
    expect(entry.resources).toEqual([
      { urn: expect.stringMatching(/::settings$/), op: "update", properties: ["content"] },
    ]);
    // The check only reads: the file keeps the out-of-band value, and the state still records what
    // Pulumi last applied, so the next night sees the same drift.
    expect(readFileSync(target, "utf8")).toBe("replicas=5");
    const state = await engine.stack.exportStack();
    const recorded = state.deployment.resources.find((r: any) => r.urn.endsWith("::settings"));
    expect(recorded.outputs.content).toBe("replicas=2");
    expect((await detectDrift(engine.stack)).status).toBe("drifted");
  });

  it("is in sync again once the program is re-applied", async (ctx) => {
    if (!tools) ctx.skip();
    await engine.stack.up({ refresh: true });
    expect(readFileSync(target, "utf8")).toBe("replicas=2");
    expect((await detectDrift(engine.stack)).status).toBe("in-sync");
  });
});
