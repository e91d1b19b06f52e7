import { stableHash } from "./hash";
import { HNSW, type RelevanceProfile } from "./types";

/** Bump when the rendered mappings change shape, so existing indices are rebuilt. */
export const MAPPING_VERSION = 2;

/**
 * What forces a new index: anything baked into indexed data or mappings. Weights, depth, window and
 * the reranker only change queries and pipelines, which are updated in place.
 */
export function indexGeneration(profile: RelevanceProfile): string {
  return stableHash({
    mapping: MAPPING_VERSION,
    model: profile.embedding.model,
    dims: profile.embedding.dims,
    similarity: profile.similarity,
    analyzer: profile.analyzer,
    hnsw: HNSW,
  });
}

export interface IndexNames {
  /** What every reader queries; it points at exactly one versioned index at a time. */
  readonly alias: string;
  /** The versioned index this profile renders. */
  readonly index: string;
  /** Per-generation ingestion state (ETag per object, chunk ids), one per engine. */
  readonly state: string;
  /** OpenSearch: fusion + rerank, and fusion alone (what the parity test compares). */
  readonly searchPipeline: string;
  readonly fusionPipeline: string;
  /** OpenSearch: embeds `content` at index time for writers that send no vector. */
  readonly ingestPipeline: string;
}

export function indexNames(base: string, profile: RelevanceProfile): IndexNames {
  const generation = indexGeneration(profile);
  return {
    alias: base,
    index: `${base}-${generation}`,
    state: `${base}-state-${generation}`,
    searchPipeline: `${base}-hybrid-rerank`,
    fusionPipeline: `${base}-hybrid`,
    ingestPipeline: `${base}-embed-${generation}`,
  };
}

/** A generation as index names carry it (stableHash: 8 hex digits); engine roles match it too. */
export const GENERATION_PATTERN = "[0-9a-f]{8}";

/** True for a versioned index of this base (not the alias or a state index). */
export function isVersionedIndex(base: string, name: string): boolean {
  return new RegExp(`^${base.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}-${GENERATION_PATTERN}$`).test(name);
}
