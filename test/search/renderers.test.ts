// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ml-commons placeholders like ${parameters.input} are literal

import {
  esBm25Request,
  esIndexBody,
  esKnnRequest,
  indexGeneration,
  indexNames,
  isVersionedIndex,
  osClusterSettings,
  osEmbeddingConnector,
  osFusionPipeline,
  osHybridQuery,
  osIndexBody,
  osIngestPipeline,
  osRemoteModel,
  osRerankConnector,
  osSearchPipeline,
} from "@search-backbone/relevance";
import { describe, expect, it } from "vitest";
import { ENDPOINTS, PROFILE, withProfile } from "./profile-fixtures";

describe("Elasticsearch renderings", () => {
  it("maps the vector field with the profile's dims and similarity on unquantised HNSW, one primary shard", () => {
    const body = esIndexBody(PROFILE) as any;
    expect(body.settings.number_of_shards).toBe(1);
    expect(body.mappings.properties.embedding).toEqual({
      type: "dense_vector",
      dims: 768,
      index: true,
      similarity: "cosine",
      index_options: { type: "hnsw", m: 16, ef_construction: 100 },
    });
    expect(body.mappings.properties.content).toEqual({ type: "text", analyzer: "standard" });
    expect(body.mappings._meta).toMatchObject({ dims: 768, embedding_model: "bge-base-zh-v1.5" });
    expect(
      (esIndexBody(withProfile({ similarity: "dot_product" })) as any).mappings.properties.embedding.similarity,
    ).toBe("dot_product");
  });

  it("renders BM25 and kNN templates at the candidate depth", () => {
    const vector = [0.1, 0.2];
    expect(esBm25Request(PROFILE, "reset password")).toEqual({
      size: 100,
      _source: false,
      query: { match: { content: { query: "reset password" } } },
    });
    expect(esKnnRequest(PROFILE, vector)).toMatchObject({
      size: 100,
      knn: { field: "embedding", query_vector: vector, k: 100, num_candidates: 200 },
    });
    expect((esKnnRequest(withProfile({ candidateDepth: 9000 }), vector) as any).knn.num_candidates).toBe(10_000);
  });
});

describe("OpenSearch renderings", () => {
  it("creates a k-NN index: index.knn, knn_vector, lucene hnsw, cosinesimil", () => {
    const body = osIndexBody(PROFILE) as any;
    expect(body.settings.index).toEqual({ knn: true, number_of_shards: 1, number_of_replicas: 0 });
    expect(body.mappings.properties.embedding).toEqual({
      type: "knn_vector",
      dimension: 768,
      method: {
        name: "hnsw",
        space_type: "cosinesimil",
        engine: "lucene",
        parameters: { m: 16, ef_construction: 100 },
      },
    });
    expect(
      (osIndexBody(withProfile({ similarity: "l2_norm" })) as any).mappings.properties.embedding.method.space_type,
    ).toBe("l2");
  });

  it("trusts exactly the model endpoints' origins and allows their private addresses", () => {
    const settings = osClusterSettings(ENDPOINTS).persistent as Record<string, any>;
    const [regex] = settings["plugins.ml_commons.trusted_connector_endpoints_regex"];
    expect(settings["plugins.ml_commons.trusted_connector_endpoints_regex"]).toHaveLength(1);
    expect(new RegExp(regex).test("http://10.20.0.50:8080/v1/embeddings")).toBe(true);
    expect(new RegExp(regex).test("http://10.20.0.51:8080/v1/embeddings")).toBe(false);
    expect(new RegExp(regex).test("http://10.20.0.50:8080.evil.com/x")).toBe(false);
    expect(settings["plugins.ml_commons.connector.private_ip_enabled"]).toBe(true);
  });

  it("renders connectors in the contract's shapes, named by their content", () => {
    const embedding = osEmbeddingConnector("chunks", ENDPOINTS);
    expect(embedding.actions[0]).toMatchObject({
      url: ENDPOINTS.embedding.url,
      pre_process_function: "connector.pre_process.openai.embedding",
      post_process_function: "connector.post_process.openai.embedding",
    });
    expect(JSON.parse(embedding.actions[0]!.request_body.replace("${parameters.input}", '["a"]'))).toEqual({
      input: ["a"],
      model: "${parameters.model}",
    });
    expect(embedding.credential).toEqual({ unused: "none" });
    expect(embedding.actions[0]!.headers).not.toHaveProperty("Authorization");
    const rerank = osRerankConnector("chunks", ENDPOINTS, { apiKey: "k" });
    expect(rerank.actions[0]).toMatchObject({
      url: ENDPOINTS.rerank.url,
      pre_process_function: "connector.pre_process.cohere.rerank",
      post_process_function: "connector.post_process.cohere.rerank",
    });
    expect(rerank.actions[0]!.headers.Authorization).toBe("Bearer ${credential.key}");
    expect(rerank.credential).toEqual({ key: "k" });
    const moved = osEmbeddingConnector("chunks", {
      ...ENDPOINTS,
      embedding: { ...ENDPOINTS.embedding, url: "http://x/v1" },
    });
    expect(moved.name).not.toBe(embedding.name);
    expect(osRemoteModel(embedding.name, "g", "c")).toMatchObject({ function_name: "remote", connector_id: "c" });
  });

  it("renders the ingest pipeline and the search pipelines at the profile's weights", () => {
    expect(osIngestPipeline("m1").processors[0]).toEqual({
      text_embedding: { model_id: "m1", field_map: { content: "embedding" } },
    });
    const fusion = osFusionPipeline(PROFILE).phase_results_processors[0]!["normalization-processor"];
    expect(fusion).toEqual({
      normalization: { technique: "min_max" },
      combination: { technique: "arithmetic_mean", parameters: { weights: [0.3, 0.7] } },
    });
    const full = osSearchPipeline(PROFILE, "rr");
    expect(full.phase_results_processors).toEqual(osFusionPipeline(PROFILE).phase_results_processors);
    expect(full.response_processors[0]).toEqual({
      rerank: { ml_opensearch: { model_id: "rr" }, context: { document_fields: ["content"] } },
    });
  });

  it("renders the hybrid query: BM25 then kNN at the depth, size = window under rerank", () => {
    const q = osHybridQuery(PROFILE, "reset", [0.5], "rerank") as any;
    expect(q.size).toBe(50);
    expect(q.query.hybrid.pagination_depth).toBe(100);
    expect(q.query.hybrid.queries).toEqual([
      { match: { content: { query: "reset" } } },
      { knn: { embedding: { vector: [0.5], k: 100 } } },
    ]);
    expect(q.ext.rerank.query_context.query_text).toBe("reset");
    expect((osHybridQuery(PROFILE, "reset", [0.5], "fusion") as any).size).toBe(100);
  });
});

describe("index names", () => {
  it("version the index by what is baked into it, not by query-time settings", () => {
    const base = indexGeneration(PROFILE);
    expect(indexGeneration(withProfile({ bm25Weight: 0.5, vectorWeight: 0.5, rerankWindow: 20 }))).toBe(base);
    for (const change of [
      { embedding: { model: "bge-base-zh-v1.5", dims: 512 } },
      { embedding: { model: "other", dims: 768 } },
      { analyzer: "english" },
      { similarity: "dot_product" as const },
    ]) {
      expect(indexGeneration(withProfile(change)), JSON.stringify(change)).not.toBe(base);
    }
    const names = indexNames("chunks", PROFILE);
    expect(names.index).toBe(`chunks-${base}`);
    expect(isVersionedIndex("chunks", names.index)).toBe(true);
    expect(isVersionedIndex("chunks", names.state)).toBe(false);
    expect(isVersionedIndex("chunks", "chunks")).toBe(false);
  });
});
