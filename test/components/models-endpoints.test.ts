import { describe, expect, it } from "vitest";
import { bailianEndpoint, type ModelEndpoints, torchserveEndpoint } from "../../components/model-endpoints";
import { retrievalEndpoints, searchEndpoints } from "../../components/models";

const PROFILE = { embedding: { model: "bge-base-zh-v1.5", dims: 768 }, rerank: { model: "bge-reranker-base" } };
const NLB = "http://nlb-abc.cn-hangzhou.nlb.aliyuncs.com:8080";
const onTorchServe: ModelEndpoints = {
  embedding: torchserveEndpoint(NLB, "embedding", "embed", 768),
  rerank: torchserveEndpoint(NLB, "rerank", "rerank"),
};

describe("the endpoints the search jobs and the orchestrator share", () => {
  it("are the stack's own endpoints when they speak the contract", () => {
    expect(retrievalEndpoints(onTorchServe, {})).toEqual(onTorchServe);
    expect(searchEndpoints(onTorchServe, PROFILE)).toEqual({
      embedding: {
        url: `${NLB}/predictions/embed`,
        model: "bge-base-zh-v1.5",
        protocol: "contract",
        dims: 768,
        authSecret: null,
      },
      rerank: {
        url: `${NLB}/predictions/rerank`,
        model: "bge-reranker-base",
        protocol: "contract",
        dims: null,
        authSecret: null,
      },
    });
  });

  it("take a gateway for a role on DashScope's native API, without its key", () => {
    const mixed = {
      ...onTorchServe,
      embedding: bailianEndpoint("https://dashscope.aliyuncs.com", "embedding", "text-embedding-v4", 1024),
    };
    const gateway = "http://gateway.internal:8080/v1/embeddings";
    const served = retrievalEndpoints(mixed, { embeddingUrl: gateway });
    expect(served.embedding).toEqual({
      url: gateway,
      model: "text-embedding-v4",
      protocol: "contract",
      dims: 1024,
      authSecret: null,
    });
    expect(served.rerank).toEqual(onTorchServe.rerank);
  });

  it("refuse a role on DashScope's native API without a gateway, naming the key", () => {
    const native = {
      ...onTorchServe,
      rerank: bailianEndpoint("https://dashscope.aliyuncs.com", "rerank", "gte-rerank-v2"),
    };
    expect(() => retrievalEndpoints(native, {})).toThrow(
      "gateways.rerankUrl: not set, and the rerank endpoint https://dashscope.aliyuncs.com/api/v1/services/rerank/text-rerank/text-rerank speaks DashScope's native API",
    );
  });

  it("name the profile's models (what the indices record) and fall back to its dims where the endpoint declares none", () => {
    const undeclared = { ...onTorchServe, embedding: { ...onTorchServe.embedding, dims: null } };
    const profile = { ...PROFILE, embedding: { ...PROFILE.embedding, dims: 512 } };
    expect(searchEndpoints(undeclared, profile).embedding.dims).toBe(512);
  });
});
