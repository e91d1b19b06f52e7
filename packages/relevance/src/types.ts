/**
 * The relevance profile: the single source both engines are rendered from. Everything in this
 * package is pure and dependency-free, so the Pulumi program, the policy pack, the search jobs and
 * the orchestrator share it without importing each other's dependencies.
 */

export type Similarity = "cosine" | "dot_product" | "l2_norm";

export interface RelevanceProfile {
  readonly embedding: { readonly model: string; readonly dims: number };
  readonly rerank: { readonly model: string };
  readonly similarity: Similarity;
  readonly bm25Weight: number;
  readonly vectorWeight: number;
  /** Candidates each retriever contributes before fusion (BM25 size, kNN k). */
  readonly candidateDepth: number;
  /** Fused candidates the reranker sees. */
  readonly rerankWindow: number;
  /** Results returned to callers. */
  readonly topK: number;
  /** The analyzer of the text field; it must exist in both engines (see analyzers.ts). */
  readonly analyzer: string;
}

/** HNSW graph parameters, equal on both engines (unquantised on both: ES defaults to int8_hnsw). */
export const HNSW = { m: 16, efConstruction: 100 } as const;

/** Field names of a chunk document, shared by both engines' mappings and queries. */
export const FIELDS = {
  text: "content",
  vector: "embedding",
  title: "title",
  sourceKey: "source_key",
  sourceEtag: "source_etag",
  chunkNo: "chunk_no",
  contentType: "content_type",
  /** Who may read the chunk: `public`, `group:<g>`, `user:<id>` tokens (access.ts). */
  access: "access",
} as const;
