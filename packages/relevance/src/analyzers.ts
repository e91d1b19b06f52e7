/**
 * Analyzers each engine offers as deployed here. BM25 parity needs the same analysis on both, so a
 * profile may only name an analyzer both have.
 * - Built-ins of Lucene-based engines (standard, simple, whitespace, stop, keyword) and the language
 *   analyzers from the analysis-common module exist in both Alibaba Cloud Elasticsearch and the
 *   OpenSearch image this stack runs (analysis-common is a default module in both distributions).
 * - smartcn (analysis-smartcn: Lucene's Smart Chinese analyzer, word segmentation of Simplified
 *   Chinese with English words kept) is the Chinese analyzer both can have: the stack's OpenSearch
 *   image installs the official plugin (k8s/opensearch/Dockerfile), and Alibaba lists it for its
 *   Elasticsearch 8.17 (below).
 * - ik_smart / ik_max_word (analysis-ik) are preinstalled on Alibaba Cloud Elasticsearch but not in
 *   the OpenSearch image, so they are refused until that image ships the plugin.
 * What Alibaba documents (read 2026-12-07, not checked against an instance):
 *   [V] analysis-ik is a built-in plug-in of every Alibaba Cloud Elasticsearch version
 *       (https://www.alibabacloud.com/help/en/es/plug-ins);
 *   [V] analysis-smartcn and analysis-ik are preinstalled in Elasticsearch Serverless 8.17
 *       (https://help.aliyun.com/en/es/user-guide/appendix-iii-supported-plugins);
 *   [I] analysis-smartcn is built into 8.17 instances too: the instance page's excerpts seen here do
 *       not list it; Alibaba's community answer does (https://developer.aliyun.com/ask/275664). If an
 *       instance lacks it, the official analysis-smartcn-8.17.0.zip can be uploaded as a custom
 *       plug-in. `GET _cat/plugins` on the instance settles it.
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
  smartcn: both,
  ik_smart: { elasticsearch: true, opensearch: false },
  ik_max_word: { elasticsearch: true, opensearch: false },
};

/** The engines lacking an analyzer (unknown analyzers lack both). */
export function enginesLacking(analyzer: string): ("elasticsearch" | "opensearch")[] {
  const known = ANALYZERS[analyzer];
  return (["elasticsearch", "opensearch"] as const).filter((engine) => !known?.[engine]);
}
