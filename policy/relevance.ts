import { type RelevanceSummary, SUMMARIES_DATA_KEY } from "@search-backbone/relevance";

/**
 * The relevance rules' reading of `RelevanceSummary` (the relevance package, computed by its
 * `relevanceSummaries` from what each renderer actually rendered, not copied from the profile, so a
 * renderer that drifts from the other shows up here). A resource carries either an input
 * `relevanceSummary`, or (the search setup's settings ConfigMap, components/search/jobs.ts) a data
 * key `SUMMARIES_DATA_KEY` holding a JSON array of them.
 */

export const COMPARED_FIELDS = [
  "bm25Weight",
  "vectorWeight",
  "similarity",
  "embeddingDims",
  "candidateDepth",
  "rerankWindow",
  "topK",
] as const satisfies readonly (keyof RelevanceSummary)[];

/** Weights are fractions; renderers may scale and round them. */
const WEIGHT_TOLERANCE = 1e-6;

const isSummary = (value: any): value is RelevanceSummary =>
  value?.engine === "elasticsearch" || value?.engine === "opensearch";

/** The summaries a resource carries: its `relevanceSummary` input, or a ConfigMap's summaries key. */
export function summariesOf(props: Record<string, any>): RelevanceSummary[] {
  if (isSummary(props?.relevanceSummary)) return [props.relevanceSummary];
  const data = props?.data?.[SUMMARIES_DATA_KEY];
  if (typeof data !== "string") return [];
  try {
    const parsed: unknown = JSON.parse(data);
    return Array.isArray(parsed) ? parsed.filter(isSummary) : [];
  } catch {
    return [];
  }
}

/** Fields on which two summaries disagree, as "field: a vs b". */
export function disagreements(a: RelevanceSummary, b: RelevanceSummary): string[] {
  return COMPARED_FIELDS.filter((field) => {
    const [x, y] = [a[field], b[field]];
    return typeof x === "number" && typeof y === "number" ? Math.abs(x - y) > WEIGHT_TOLERANCE : x !== y;
  }).map((field) => `${field}: ${a.engine} ${a[field]} vs ${b.engine} ${b[field]}`);
}
