import { describe, expect, it } from "vitest";
import { modelInfo } from "../src/loop/api.ts";

describe("the orchestrator's model info", () => {
  it("reads the current models by role from /metrics", () => {
    const exposition = [
      "# HELP orchestrator_model_info The models the service queries with now (1)",
      "# TYPE orchestrator_model_info gauge",
      'orchestrator_model_info{role="embedding",model="embed-v2"} 1',
      'orchestrator_model_info{role="rerank",model="rerank"} 1',
      'orchestrator_degraded_responses_total{dependency="rerank"} 3',
    ].join("\n");
    expect(modelInfo(exposition)).toEqual({ embedding: "embed-v2", rerank: "rerank" });
    expect(modelInfo("")).toEqual({});
  });
});
