import * as pulumi from "@pulumi/pulumi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Recommendations } from "../../components/recommendations/recommendations";
import { AirecFake, airecFakeEnv } from "../helpers/fakes/airec";
import { startFakes, stopFakes } from "../helpers/fakes/setup";
import { createEngineStack, type EngineStack, type EngineTools, findEngine } from "./harness";

/**
 * The AIRec instance resource under the real engine (serialized, run in the provider plugin process)
 * against the local AIRec fake: up adopts and sets the scenes up, a second up changes nothing,
 * protect blocks destroy, and destroy leaves the instance and its scenes in place.
 */

const project = "backbone-engine-airec";
const INSTANCE = "airec-cn-engine0001";
const fake = new AirecFake({
  instances: [{ instanceId: INSTANCE, regionId: "cn-hangzhou", status: "Running", scenes: ["docs"], dataSources: [] }],
});
let tools: EngineTools | undefined;
let engine: EngineStack;
let bought: EngineStack;

const program = async () => {
  const config = new pulumi.Config();
  const recommendations = new Recommendations("recommendations", {
    region: "cn-hangzhou",
    settings: { mode: "adopt", instanceId: config.get("instanceId") ?? INSTANCE, scenes: ["docs", "related"] },
    protect: config.getBoolean("protect") ?? false,
  });
  return { airec: recommendations.airec };
};

/** Mode create, as a stack with recommendations.airec.confirmPurchase: true maps it. */
const buyingProgram = async () => {
  const recommendations = new Recommendations("recommendations", {
    region: "cn-hangzhou",
    settings: {
      mode: "create",
      purchase: {
        edition: "Industry Operation Edition",
        quota: { userCount: 100_000, itemCount: 50_000, qps: 5 },
        payment: { duration: 1, pricingCycle: "Month", autoRenew: false },
      },
      scenes: ["docs"],
    },
    protect: false,
  });
  return { instanceId: recommendations.instanceId };
};

beforeAll(async () => {
  tools = await findEngine();
  if (!tools) return;
  const [url] = await startFakes(fake);
  const env = airecFakeEnv(url);
  engine = await createEngineStack(tools, project, program, "airec");
  Object.assign(engine.stack.workspace.envVars, env);
  bought = await createEngineStack(tools, `${project}-create`, buyingProgram, "airec-create");
  Object.assign(bought.stack.workspace.envVars, env);
});

afterAll(async () => {
  engine?.cleanup();
  bought?.cleanup();
  await stopFakes(fake);
});

const actions = () => fake.http.actions();

describe("AirecInstance under the real engine, against the AIRec fake", () => {
  it("up adopts the instance, creates the missing scene and outputs what the orchestrator reads", async (ctx) => {
    if (!tools) ctx.skip();
    const up = await engine.stack.up();
    expect(up.summary.result).toBe("succeeded");
    expect(up.outputs.airec?.value).toEqual({
      instanceId: INSTANCE,
      sceneId: "docs",
      sceneIds: ["docs", "related"],
      endpoint: "airec-vpc.cn-hangzhou.aliyuncs.com",
      region: "cn-hangzhou",
    });
    expect(actions()).toEqual(["DescribeInstance", "ListScenes", "CreateScene", "ListDataSource"]);
    expect(fake.http.violations).toEqual([]);
    expect(up.stdout + up.stderr).toMatch(/AIRec instance airec-cn-engine0001 \(Running\): scenes docs, related/);
  });

  it("a second up changes nothing and calls no write API", async (ctx) => {
    if (!tools) ctx.skip();
    const before = fake.http.requests.length;
    const preview = await engine.stack.preview();
    expect(preview.changeSummary).toEqual({ same: 3 });
    const up = await engine.stack.up();
    expect(up.summary.resourceChanges).toEqual({ same: 3 });
    expect(actions().slice(before)).not.toContain("CreateScene");
    expect(fake.instances.get(INSTANCE)?.scenes.size).toBe(2);
  });

  it("an id AIRec does not know fails the up with the field and the value, and keeps the adopted one", async (ctx) => {
    if (!tools) ctx.skip();
    await engine.stack.setConfig("instanceId", { value: "airec-cn-missing0001" });
    const failed = await engine.stack.up().catch((error: Error) => error);
    expect(String(failed)).toMatch(/instanceId: AIRec has no instance "airec-cn-missing0001" in cn-hangzhou/);
    await engine.stack.removeConfig("instanceId");
    const preview = await engine.stack.preview();
    expect(preview.changeSummary).toEqual({ same: 3 });
  });

  it("a protected instance (prod) blocks destroy", async (ctx) => {
    if (!tools) ctx.skip();
    await engine.stack.setConfig("protect", { value: "true" });
    await engine.stack.up();
    await expect(engine.stack.destroy()).rejects.toThrow(/protect/);
    await engine.stack.setConfig("protect", { value: "false" });
    await engine.stack.up();
  });

  it("destroy leaves the instance and its scenes, and says so", async (ctx) => {
    if (!tools) ctx.skip();
    const before = fake.http.requests.length;
    const destroyed = await engine.stack.destroy();
    expect(destroyed.summary.resourceChanges).toMatchObject({ delete: 3 });
    expect(fake.http.requests.slice(before).map((r) => r.method)).not.toContain("DELETE");
    expect(fake.instances.get(INSTANCE)?.scenes.size).toBe(2);
    expect(destroyed.stdout + destroyed.stderr).toMatch(/airec-cn-engine0001 was adopted and is left as it is/);
    expect(fake.http.violations).toEqual([]);
  });
});

describe("AirecInstance in create mode under the real engine", () => {
  it("buys once, does not buy again on re-up, and destroy leaves the prepaid instance", async (ctx) => {
    if (!tools) ctx.skip();
    const up = await bought.stack.up();
    const instanceId = up.outputs.instanceId?.value as string;
    expect(instanceId).toMatch(/^airec-cn-fake\d+$/);
    expect(fake.instances.get(instanceId)?.created).toMatchObject({
      type: "Industry Operation Edition",
      chargeType: "PrePaid",
    });
    expect(up.stdout + up.stderr).toMatch(/destroy will leave it/);

    const again = await bought.stack.up();
    expect(again.summary.resourceChanges).toEqual({ same: 3 });
    expect(fake.http.actions().filter((a) => a === "CreateInstance")).toHaveLength(1);

    const before = fake.http.requests.length;
    const destroyed = await bought.stack.destroy();
    expect(destroyed.summary.resourceChanges).toMatchObject({ delete: 3 });
    expect(fake.http.requests.length).toBe(before);
    expect(fake.instances.has(instanceId)).toBe(true);
    expect(destroyed.stdout + destroyed.stderr).toMatch(/cannot be released through the API/);
    expect(fake.http.violations).toEqual([]);
  });
});
