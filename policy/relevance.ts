/**
 * The engine-neutral summary of a rendered search configuration that the relevance rules compare.
 *
 * The Elasticsearch and OpenSearch renderers live in components/search (written separately). Their
 * contract with this pack: each resource that pushes a rendered configuration to an engine carries an
 * input `relevanceSummary` of this shape, computed by the renderer from what it actually rendered
 * (not copied from the profile), so a renderer that drifts from the profile shows up here.
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

export function summaryOf(props: Record<string, any>): RelevanceSummary | undefined {
  const summary = props?.relevanceSummary;
  return summary && (summary.engine === "elasticsearch" || summary.engine === "opensearch") ? summary : undefined;
}

/** Fields on which two summaries disagree, as "field: a vs b". */
export function disagreements(a: RelevanceSummary, b: RelevanceSummary): string[] {
  return COMPARED_FIELDS.filter((field) => {
    const [x, y] = [a[field], b[field]];
    return typeof x === "number" && typeof y === "number" ? Math.abs(x - y) > WEIGHT_TOLERANCE : x !== y;
  }).map((field) => `${field}: ${a.engine} ${a[field]} vs ${b.engine} ${b[field]}`);
}
