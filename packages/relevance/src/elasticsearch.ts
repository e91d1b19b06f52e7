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

/** Filter clauses (the access filter first) that BM25 and kNN both carry; none: unfiltered. */
export type FilterClauses = readonly Record<string, unknown>[];

/** BM25 sub-query at the candidate depth; filters go in a bool filter (no effect on scores). */
export function esBm25Request(
  profile: RelevanceProfile,
  text: string,
  filter: FilterClauses = [],
): Record<string, unknown> {
  const match = { match: { [FIELDS.text]: { query: text } } };
  return {
    size: profile.candidateDepth,
    _source: false,
    query: filter.length > 0 ? { bool: { must: [match], filter: [...filter] } } : match,
  };
}

/**
 * kNN sub-query at the candidate depth; `num_candidates` widens the HNSW search (ES caps it at 10000).
 * Filters go in `knn.filter`, applied during the graph search, so the k neighbours are all admitted
 * ones: a post-filter would let restricted chunks take candidate slots and leave fewer than k.
 */
export function esKnnRequest(
  profile: RelevanceProfile,
  vector: readonly number[],
  filter: FilterClauses = [],
): Record<string, unknown> {
  return {
    size: profile.candidateDepth,
    _source: false,
    knn: {
      field: FIELDS.vector,
      query_vector: [...vector],
      k: profile.candidateDepth,
      num_candidates: Math.min(10_000, Math.max(profile.candidateDepth * 2, 100)),
      ...(filter.length > 0 ? { filter: { bool: { filter: [...filter] } } } : {}),
    },
  };
}
