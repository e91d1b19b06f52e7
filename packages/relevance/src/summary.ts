/**
 * The engine-neutral summary of a rendered search configuration: what the policy pack's relevance
 * rules compare between the two engines. `relevanceSummaries` (parity.ts) computes it from what each
 * renderer actually rendered, not from the profile, so a renderer that drifts shows up.
 */
export interface RelevanceSummary {
  readonly engine: "elasticsearch" | "opensearch";
  readonly bm25Weight: number;
  readonly vectorWeight: number;
  readonly similarity: string;
  readonly embeddingDims: number;
  readonly candidateDepth: number;
  readonly rerankWindow: number;
  readonly topK: number;
}

/** The search setup's settings ConfigMap key (components/search/jobs.ts) that holds a JSON array of summaries. */
export const SUMMARIES_DATA_KEY = "relevance-summaries.json";
