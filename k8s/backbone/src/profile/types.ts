/**
 * The relevance profile: the single source both engines are rendered from. Everything in this
 * folder is pure and dependency-free, so the Pulumi program (components/search) and the in-cluster
 * package (this package) share it without either importing the other's dependencies.
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

/**
 * Where the models are served, in the model-endpoint contract (models/CONTRACT.md):
 * embeddings take OpenAI's shape `{"input": string[]}` -> `{"data":[{"index","embedding"}],"model"}`;
 * rerank takes Cohere's `{"query","documents","top_n"?}` -> `{"results":[{"index","relevance_score"}]}`.
 * The model-infrastructure stack output `modelEndpoints` has this shape.
 */
export interface ModelEndpoints {
  readonly embedding: { readonly url: string; readonly model: string; readonly dims: number };
  readonly rerank: { readonly url: string; readonly model: string };
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
} as const;
