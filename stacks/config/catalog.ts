/**
 * What each model endpoint can actually serve. The config loader checks the relevance profile
 * against this table so a stack never asks an index for a vector size its model cannot produce.
 */

export type ModelEndpoint = "torchserve" | "bailian";

export interface EmbeddingModel {
  readonly endpoint: ModelEndpoint;
  readonly dims: readonly number[];
}

export const EMBEDDING_MODELS: Readonly<Record<string, EmbeddingModel>> = {
  // Bailian text-embedding-v4: documented output sizes (Model Studio text-embedding API page).
  "text-embedding-v4": { endpoint: "bailian", dims: [2048, 1536, 1024, 768, 512, 256, 128, 64] },
  // v3: the international page lists 1024/768/512; the Beijing page adds 256/128/64. The sources
  // conflict, so only the sizes both agree on are accepted.
  "text-embedding-v3": { endpoint: "bailian", dims: [1024, 768, 512] },
  // Self-hosted bases that models/ fine-tunes; their hidden size fixes the vector size.
  "bge-small-zh-v1.5": { endpoint: "torchserve", dims: [512] },
  "bge-base-zh-v1.5": { endpoint: "torchserve", dims: [768] },
  "bge-large-zh-v1.5": { endpoint: "torchserve", dims: [1024] },
  "bge-m3": { endpoint: "torchserve", dims: [1024] },
};

export const RERANK_MODELS: Readonly<Record<string, { readonly endpoint: ModelEndpoint }>> = {
  // gte-rerank was discontinued on 2026-05-30; qwen3-rerank replaces it.
  "qwen3-rerank": { endpoint: "bailian" },
  "gte-rerank-v2": { endpoint: "bailian" },
  "bge-reranker-base": { endpoint: "torchserve" },
  "bge-reranker-large": { endpoint: "torchserve" },
  "bge-reranker-v2-m3": { endpoint: "torchserve" },
};

/** gn7i: Ampere A10 (24 GB). Types look like ecs.gn7i-c8g1.2xlarge or ecs.gn7i-2x.8xlarge. */
export const GN7I_INSTANCE_TYPE = /^ecs\.gn7i-(c\d+g1|\d+x)\.\d*xlarge$/;

/** Any ECS GPU family (gn6i, gn7i, gn7e, gn8is, …); DLC training may use other GPUs than serving. */
export const GPU_INSTANCE_TYPE = /^ecs\.gn\d+[a-z]*-[a-z0-9]+\.\d*xlarge$/;
