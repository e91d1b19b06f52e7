import { indexGeneration } from "./names";
import { FIELDS, type RelevanceProfile } from "./types";

/** Stored in both engines' mappings so readers know which model and dims the alias target wants. */
export function profileMeta(profile: RelevanceProfile): Record<string, unknown> {
  return {
    generation: indexGeneration(profile),
    embedding_model: profile.embedding.model,
    dims: profile.embedding.dims,
    similarity: profile.similarity,
    analyzer: profile.analyzer,
  };
}

/**
 * The chunk mapping both engines share; only the vector field differs (`dense_vector` on
 * Elasticsearch, `knn_vector` on OpenSearch). One definition keeps the text fields, their analyzer
 * and the bookkeeping fields identical by construction.
 */
export function chunkMappings(
  profile: RelevanceProfile,
  vectorField: Record<string, unknown>,
): Record<string, unknown> {
  return {
    dynamic: "strict",
    _meta: profileMeta(profile),
    properties: {
      [FIELDS.text]: { type: "text", analyzer: profile.analyzer },
      [FIELDS.title]: { type: "text", analyzer: profile.analyzer },
      [FIELDS.vector]: vectorField,
      [FIELDS.sourceKey]: { type: "keyword" },
      [FIELDS.sourceEtag]: { type: "keyword" },
      [FIELDS.chunkNo]: { type: "integer" },
      [FIELDS.contentType]: { type: "keyword" },
      [FIELDS.access]: { type: "keyword" },
    },
  };
}
