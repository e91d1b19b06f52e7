import type { ModelEndpoints, RelevanceProfile } from "../../k8s/backbone/src/profile";

export const PROFILE: RelevanceProfile = {
  embedding: { model: "bge-base-zh-v1.5", dims: 768 },
  rerank: { model: "bge-reranker-base" },
  similarity: "cosine",
  bm25Weight: 0.3,
  vectorWeight: 0.7,
  candidateDepth: 100,
  rerankWindow: 50,
  topK: 10,
  analyzer: "standard",
};

export const ENDPOINTS: ModelEndpoints = {
  embedding: { url: "http://10.20.0.50:8080/v1/embeddings", model: "bge-base-zh-v1.5", dims: 768 },
  rerank: { url: "http://10.20.0.50:8080/v1/rerank", model: "bge-reranker-base" },
};

export const withProfile = (change: Partial<RelevanceProfile>): RelevanceProfile => ({ ...PROFILE, ...change });
