import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  type BailianDeploymentSpec,
  createDeployment,
  deleteDeployment,
  deploymentProblems,
} from "../../components/bailian/deployment";
import { DashScopeFake } from "../helpers/fakes/dashscope";

let fake: DashScopeFake;
let spec: BailianDeploymentSpec;
let env: Record<string, string>;
let lines: string[];
let clock: number;
const wait = { timeoutMinutes: 15, pollSeconds: 20 };
const ctx = () => ({
  env,
  progress: (line: string) => lines.push(line),
  sleep: async (ms: number) => {
    clock += ms;
  },
  now: () => clock,
});

beforeEach(async () => {
  fake = new DashScopeFake();
  spec = { baseUrl: await fake.start(), modelName: "qwen3-8b-ft-202611010101-abcd", capacity: 1, suffix: "rerank" };
  env = { DASHSCOPE_API_KEY: "sk-fake" };
  lines = [];
  clock = 0;
});
afterEach(() => fake.stop());

describe("BailianDeployment against a local DashScope fake", () => {
  it("creates, polls until RUNNING with a line per status, and deletes", async () => {
    fake.options.script = ["PENDING", "PENDING", "RUNNING"];
    const result = await createDeployment(spec, wait, ctx());
    expect(result).toEqual({ deployedModel: "qwen3-8b-ft-202611010101-abcd-rerank1", status: "RUNNING" });
    expect(lines).toEqual([
      "Bailian deployment qwen3-8b-ft-202611010101-abcd-rerank1 (qwen3-8b-ft-202611010101-abcd): created",
      "Bailian deployment qwen3-8b-ft-202611010101-abcd-rerank1: PENDING (0/1 ready)",
      "Bailian deployment qwen3-8b-ft-202611010101-abcd-rerank1: RUNNING (1/1 ready)",
    ]);
    await deleteDeployment(spec.baseUrl, result.deployedModel, ctx());
    expect(fake.http.actions().map((a) => a)).toEqual([
      "CreateDeployment",
      "GetDeployment",
      "GetDeployment",
      "GetDeployment",
      "DeleteDeployment",
    ]);
    expect(fake.http.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      "POST /api/v1/deployments",
      "GET /api/v1/deployments/qwen3-8b-ft-202611010101-abcd-rerank1",
      "GET /api/v1/deployments/qwen3-8b-ft-202611010101-abcd-rerank1",
      "GET /api/v1/deployments/qwen3-8b-ft-202611010101-abcd-rerank1",
      "DELETE /api/v1/deployments/qwen3-8b-ft-202611010101-abcd-rerank1",
    ]);
    expect(fake.http.requests[0]!.body).toEqual({ model_name: spec.modelName, capacity: 1, suffix: "rerank" });
    expect(fake.http.violations).toEqual([]);
  });

  it("fails with the reason when the deployment goes FAILED, keeping its id for destroy", async () => {
    fake.options.script = ["PENDING", "FAILED"];
    fake.options.failureMessage = "Insufficient inventory for the requested capacity.";
    const error = await createDeployment(spec, wait, ctx()).catch((e) => e);
    expect(error.message).toBe(
      "Bailian deployment qwen3-8b-ft-202611010101-abcd-rerank1 (qwen3-8b-ft-202611010101-abcd) is FAILED: Insufficient inventory for the requested capacity.",
    );
    expect(error.id).toBe("qwen3-8b-ft-202611010101-abcd-rerank1");
  });

  it("reports a 401 for a wrong key with DashScope's code and message", async () => {
    env = { DASHSCOPE_API_KEY: "sk-other-region" };
    await expect(createDeployment(spec, wait, ctx())).rejects.toThrow(
      "CreateDeployment failed (HTTP 401, InvalidApiKey): Invalid API-key provided.",
    );
  });

  it("needs the key in the environment and calls nothing without it", async () => {
    env = {};
    await expect(createDeployment(spec, wait, ctx())).rejects.toThrow(/DASHSCOPE_API_KEY/);
    expect(fake.http.requests).toHaveLength(0);
  });

  it("stops waiting at the timeout", async () => {
    fake.options.script = ["PENDING"];
    await expect(createDeployment(spec, { timeoutMinutes: 1, pollSeconds: 20 }, ctx())).rejects.toThrow(
      /still PENDING after 1 min/,
    );
  });

  it("treats a deployment that is already gone as deleted", async () => {
    await deleteDeployment(spec.baseUrl, "gone", ctx());
    expect(fake.http.violations).toEqual([]);
  });

  it("names each bad input", () => {
    expect(deploymentProblems({ baseUrl: "ftp://x", modelName: "", capacity: 0, suffix: "Bad_Suffix" })).toHaveLength(
      4,
    );
    expect(deploymentProblems(spec)).toEqual([]);
  });
});
