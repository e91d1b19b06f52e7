/**
 * Analyzers each engine offers as deployed here. BM25 parity needs the same analysis on both, so a
 * profile may only name an analyzer both have.
 * - Built-ins of Lucene-based engines (standard, simple, whitespace, stop, keyword) and the language
 *   analyzers from the analysis-common module exist in both Alibaba Cloud Elasticsearch and the
 *   OpenSearch image this stack runs (analysis-common is a default module in both distributions).
 * - ik_smart / ik_max_word (analysis-ik) are preinstalled on Alibaba Cloud Elasticsearch but not in
 *   the OpenSearch image, so they are refused until that image ships the plugin.
 * [I] The Alibaba plugin list is from its console documentation, not checked against an instance.
 */
export interface AnalyzerAvailability {
  readonly elasticsearch: boolean;
  readonly opensearch: boolean;
}

const both: AnalyzerAvailability = { elasticsearch: true, opensearch: true };

export const ANALYZERS: Readonly<Record<string, AnalyzerAvailability>> = {
  standard: both,
  simple: both,
  whitespace: both,
  stop: both,
  english: both,
  cjk: both,
  ik_smart: { elasticsearch: true, opensearch: false },
  ik_max_word: { elasticsearch: true, opensearch: false },
};

/** The engines lacking an analyzer (unknown analyzers lack both). */
export function enginesLacking(analyzer: string): ("elasticsearch" | "opensearch")[] {
  const known = ANALYZERS[analyzer];
  return (["elasticsearch", "opensearch"] as const).filter((engine) => !known?.[engine]);
}
