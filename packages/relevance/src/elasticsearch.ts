import { chunkMappings } from "./mapping";
import { FIELDS, HNSW, type RelevanceProfile, type Similarity } from "./types";

/**
 * Elasticsearch objects rendered from the profile. Fusion and rerank happen in the orchestrator
 * (fusion.ts) because ES's `linear` retriever needs 8.18+ and `rrf`/`text_similarity_reranker`/the
 * inference API need an Enterprise licence, none of which Alibaba Cloud Elasticsearch 8.17 promises.
 * So ES only needs an index and two request templates: BM25 and kNN, each at the candidate depth.
 */

const ES_SIMILARITY: Record<Similarity, string> = { cosine: "cosine", dot_product: "dot_product", l2_norm: "l2_norm" };

export interface EsIndexBody {
  readonly settings: Record<string, unknown>;
  readonly mappings: Record<string, unknown>;
}

export function esIndexBody(profile: RelevanceProfile, replicas = 0): EsIndexBody {
  return {
    settings: {
      // One primary shard on both engines keeps BM25 statistics (IDF) identical.
      number_of_shards: 1,
      number_of_replicas: replicas,
    },
    mappings: chunkMappings(profile, {
      type: "dense_vector",
      dims: profile.embedding.dims,
      index: true,
      similarity: ES_SIMILARITY[profile.similarity],
      // Unquantised HNSW: ES 8.14+ defaults to int8_hnsw, which would rank differently.
      index_options: { type: "hnsw", m: HNSW.m, ef_construction: HNSW.efConstruction },
    }),
  };
}

/** BM25 sub-query at the candidate depth. */
export function esBm25Request(profile: RelevanceProfile, text: string): Record<string, unknown> {
  return {
    size: profile.candidateDepth,
    _source: false,
    query: { match: { [FIELDS.text]: { query: text } } },
  };
}

/** kNN sub-query at the candidate depth; `num_candidates` widens the HNSW search (ES caps it at 10000). */
export function esKnnRequest(profile: RelevanceProfile, vector: readonly number[]): Record<string, unknown> {
  return {
    size: profile.candidateDepth,
    _source: false,
    knn: {
      field: FIELDS.vector,
      query_vector: [...vector],
      k: profile.candidateDepth,
      num_candidates: Math.min(10_000, Math.max(profile.candidateDepth * 2, 100)),
    },
  };
}
