import * as pulumi from "@pulumi/pulumi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BailianDeployment } from "../../components/bailian/deployment";
import { PaiDlcJob } from "../../components/training/pai-dlc-job";
import { DashScopeFake, dashscopeFakeEnv } from "../helpers/fakes/dashscope";
import { fakeAlibabaEnv, PaiDlcFake } from "../helpers/fakes/pai-dlc";
import { startFakes, stopFakes } from "../helpers/fakes/setup";
import { createEngineStack, type EngineStack, type EngineTools, findEngine } from "./harness";

/**
 * The two dynamic providers under the real engine (serialized, run in the provider plugin
 * process) against the local fakes: up, an unchanged preview, a change that replaces, destroy.
 */

const project = "backbone-engine-models";
const dlc = new PaiDlcFake({ script: ["Queuing", "Running", "Succeeded"] });
const dashscope = new DashScopeFake({ script: ["PENDING", "RUNNING"] });
let tools: EngineTools | undefined;
let engine: EngineStack;

const program = async () => {
  const config = new pulumi.Config();
  const job = new PaiDlcJob("embedder-run", {
    region: "cn-hangzhou",
    workspaceId: "ws-engine",
    displayName: "engine-embed",
    image: "registry.example/pai/pytorch:2.5",
    instanceType: "ecs.gn7i-c8g1.2xlarge",
    podCount: 1,
    userCommand: "python -m backbone_models.cli train-embedder",
    dataSources: [{ uri: "oss://docs.oss-cn-hangzhou-internal.aliyuncs.com/training/", mountPath: "/mnt/data" }],
    envs: {},
    maxRunningMinutes: 60,
    codeHash: "code1",
    dataVersion: config.require("dataVersion"),
    artifactUri: "oss://artifacts/models/embed/v1/",
    wait: { enabled: true, timeoutMinutes: 1, pollSeconds: 0.05 },
  });
  const deployment = new BailianDeployment("rerank-deployment", {
    baseUrl: config.require("dashscopeUrl"),
    modelName: "qwen3-ft-engine",
    capacity: 1,
    suffix: "rerank",
    wait: { timeoutMinutes: 1, pollSeconds: 0.05 },
  });
  return {
    jobId: job.jobId,
    jobStatus: job.status,
    artifactUri: job.artifactUri,
    deployedModel: deployment.deployedModel,
  };
};

beforeAll(async () => {
  tools = await findEngine();
  if (!tools) return;
  const [dlcUrl, dashscopeUrl] = await startFakes(dlc, dashscope);
  engine = await createEngineStack(tools, project, program, "models");
  Object.assign(engine.stack.workspace.envVars, { ...fakeAlibabaEnv(dlcUrl), ...dashscopeFakeEnv() });
  await engine.stack.setAllConfig({ dataVersion: { value: "d1" }, dashscopeUrl: { value: dashscopeUrl } });
});

afterAll(async () => {
  engine?.cleanup();
  await stopFakes(dlc, dashscope);
});

describe("PaiDlcJob and BailianDeployment under the real engine, against the fakes", () => {
  it("up submits the job, waits for Succeeded, deploys and waits for RUNNING", async (ctx) => {
    if (!tools) ctx.skip();
    const up = await engine.stack.up();
    expect(up.summary.result).toBe("succeeded");
    expect(up.outputs.jobId?.value).toBe("dlc-fake1");
    expect(up.outputs.jobStatus?.value).toBe("Succeeded");
    expect(up.outputs.artifactUri?.value).toBe("oss://artifacts/models/embed/v1/");
    expect(up.outputs.deployedModel?.value).toBe("qwen3-ft-engine-rerank1");
    expect(dlc.http.violations).toEqual([]);
    expect(dashscope.http.violations).toEqual([]);
    // The progress lines reach the operator through the engine.
    expect(up.stdout + up.stderr).toMatch(/PAI DLC job dlc-fake1 \(engine-embed\): Running/);
  });

  it("an unchanged program touches nothing", async (ctx) => {
    if (!tools) ctx.skip();
    const before = dlc.http.requests.length;
    const preview = await engine.stack.preview();
    expect(preview.changeSummary).toEqual({ same: 3 });
    expect(dlc.http.requests.length).toBe(before);
  });

  it("a new data version is a new training run, created before the old one is deleted", async (ctx) => {
    if (!tools) ctx.skip();
    await engine.stack.setConfig("dataVersion", { value: "d2" });
    const up = await engine.stack.up();
    expect(up.summary.resourceChanges).toMatchObject({ replace: 1, same: 2 });
    expect(up.outputs.jobId?.value).toBe("dlc-fake2");
    const actions = dlc.http.actions();
    expect(actions.lastIndexOf("CreateJob")).toBeLessThan(actions.lastIndexOf("DeleteJob"));
    expect(dlc.jobs.get("dlc-fake1")?.deleted).toBe(true);
    expect(dlc.http.violations).toEqual([]);
  });

  it("destroy deletes the job and the deployment", async (ctx) => {
    if (!tools) ctx.skip();
    const destroyed = await engine.stack.destroy();
    expect(destroyed.summary.resourceChanges).toMatchObject({ delete: 3 });
    expect(dlc.jobs.get("dlc-fake2")?.deleted).toBe(true);
    expect([...dashscope.deployments.values()].every((d) => d.deleted)).toBe(true);
  });
});
