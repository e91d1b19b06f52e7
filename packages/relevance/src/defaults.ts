import type { RelevanceProfile } from "./types";

/**
 * The default relevance profile: the stack's default (stacks/config/defaults.ts), the fixtures of
 * the renderer tests, and the base the benchmark and the orchestrator's tests override.
 */
export const DEFAULT_PROFILE: RelevanceProfile = {
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
