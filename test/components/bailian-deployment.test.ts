import { beforeEach, describe, expect, it } from "vitest";
import {
  type BailianDeploymentSpec,
  createDeployment,
  deleteDeployment,
  deploymentProblems,
} from "../../components/bailian/deployment";
import { DashScopeFake, dashscopeFakeEnv } from "../helpers/fakes/dashscope";
import { useApiFake } from "../helpers/fakes/setup";

const wait = { timeoutMinutes: 15, pollSeconds: 20 };
const run = useApiFake(() => new DashScopeFake(), dashscopeFakeEnv);
let spec: BailianDeploymentSpec;
beforeEach(() => {
  spec = { baseUrl: run.url, modelName: "qwen3-8b-ft-202611010101-abcd", capacity: 1, suffix: "rerank" };
});

describe("BailianDeployment against a local DashScope fake", () => {
  it("creates, polls until RUNNING with a line per status, and deletes", async () => {
    run.fake.options.script = ["PENDING", "PENDING", "RUNNING"];
    const result = await createDeployment(spec, wait, run.ctx());
    expect(result).toEqual({ deployedModel: "qwen3-8b-ft-202611010101-abcd-rerank1", status: "RUNNING" });
    expect(run.lines).toEqual([
      "Bailian deployment qwen3-8b-ft-202611010101-abcd-rerank1 (qwen3-8b-ft-202611010101-abcd): created",
      "Bailian deployment qwen3-8b-ft-202611010101-abcd-rerank1: PENDING (0/1 ready)",
      "Bailian deployment qwen3-8b-ft-202611010101-abcd-rerank1: RUNNING (1/1 ready)",
    ]);
    await deleteDeployment(spec.baseUrl, result.deployedModel, run.ctx());
    expect(run.fake.http.actions().map((a) => a)).toEqual([
      "CreateDeployment",
      "GetDeployment",
      "GetDeployment",
      "GetDeployment",
      "DeleteDeployment",
    ]);
    expect(run.fake.http.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      "POST /api/v1/deployments",
      "GET /api/v1/deployments/qwen3-8b-ft-202611010101-abcd-rerank1",
      "GET /api/v1/deployments/qwen3-8b-ft-202611010101-abcd-rerank1",
      "GET /api/v1/deployments/qwen3-8b-ft-202611010101-abcd-rerank1",
      "DELETE /api/v1/deployments/qwen3-8b-ft-202611010101-abcd-rerank1",
    ]);
    expect(run.clock.sleeps).toEqual([20_000, 20_000]);
    expect(run.fake.http.requests[0]!.body).toEqual({ model_name: spec.modelName, capacity: 1, suffix: "rerank" });
    expect(run.fake.http.violations).toEqual([]);
  });

  it("fails with the reason when the deployment goes FAILED, keeping its id for destroy", async () => {
    run.fake.options.script = ["PENDING", "FAILED"];
    run.fake.options.failureMessage = "Insufficient inventory for the requested capacity.";
    const error = await createDeployment(spec, wait, run.ctx()).catch((e) => e);
    expect(error.message).toBe(
      "Bailian deployment qwen3-8b-ft-202611010101-abcd-rerank1 (qwen3-8b-ft-202611010101-abcd) is FAILED: Insufficient inventory for the requested capacity.",
    );
    expect(error.id).toBe("qwen3-8b-ft-202611010101-abcd-rerank1");
  });

  it("reports a 401 for a wrong key with DashScope's code and message", async () => {
    run.env = { DASHSCOPE_API_KEY: "sk-other-region" };
    await expect(createDeployment(spec, wait, run.ctx())).rejects.toThrow(
      "CreateDeployment failed (HTTP 401, InvalidApiKey): Invalid API-key provided.",
    );
  });

  it("needs the key in the environment and calls nothing without it", async () => {
    run.env = {};
    await expect(createDeployment(spec, wait, run.ctx())).rejects.toThrow(/DASHSCOPE_API_KEY/);
    expect(run.fake.http.requests).toHaveLength(0);
  });

  it("stops waiting at the timeout", async () => {
    run.fake.options.script = ["PENDING"];
    const error = await createDeployment(spec, { timeoutMinutes: 1, pollSeconds: 20 }, run.ctx()).catch((e) => e);
    expect(error.message).toBe("Bailian deployment qwen3-8b-ft-202611010101-abcd-rerank1 is still PENDING after 1 min");
    expect(error.id).toBe("qwen3-8b-ft-202611010101-abcd-rerank1");
    expect(error.properties).toEqual({ deployedModel: "qwen3-8b-ft-202611010101-abcd-rerank1", status: "PENDING" });
    expect(run.clock.sleeps).toEqual([20_000, 20_000, 20_000]);
  });

  it("treats a deployment that is already gone as deleted", async () => {
    await deleteDeployment(spec.baseUrl, "gone", run.ctx());
    expect(run.fake.http.violations).toEqual([]);
  });

  it("names each bad input", () => {
    expect(deploymentProblems({ baseUrl: "ftp://x", modelName: "", capacity: 0, suffix: "Bad_Suffix" })).toHaveLength(
      4,
    );
    expect(deploymentProblems(spec)).toEqual([]);
  });
});
