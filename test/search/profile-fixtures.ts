import { DEFAULT_PROFILE, type ModelEndpoints, type RelevanceProfile } from "@search-backbone/relevance";

export const PROFILE: RelevanceProfile = DEFAULT_PROFILE;

export const ENDPOINTS: ModelEndpoints = {
  embedding: {
    url: "http://10.20.0.50:8080/v1/embeddings",
    model: "bge-base-zh-v1.5",
    protocol: "contract",
    dims: 768,
    authSecret: null,
  },
  rerank: {
    url: "http://10.20.0.50:8080/v1/rerank",
    model: "bge-reranker-base",
    protocol: "contract",
    dims: null,
    authSecret: null,
  },
};

export const withProfile = (change: Partial<RelevanceProfile>): RelevanceProfile => ({ ...PROFILE, ...change });
