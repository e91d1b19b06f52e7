import { type ElasticsearchClient, type OpenSearchClient, quoting } from "@search-backbone/engines";
import type { ModelClient } from "@search-backbone/relevance";
import {
  applyRerank,
  esBm25Request,
  esKnnRequest,
  FIELDS,
  type FusedHit,
  fuse,
  fusionSettings,
  osHybridQuery,
  type RelevanceProfile,
  type ScoredHit,
} from "@search-backbone/relevance";

/**
 * The hybrid query on each engine, as the search tests (test/search-engines) and the benchmark
 * (scripts/bench) run it against the real engines. The orchestrator's own query path is
 * k8s/orchestrator/src/retrieval.ts, which builds its requests from the same renderers.
 * - Elasticsearch: BM25 and kNN at the candidate depth, fused by the relevance package's fuse(), then the top
 *   `window` reranked through the model endpoint.
 * - OpenSearch: one hybrid query through the search pipeline (fusion, then the rerank processor).
 * Both embed the query once, client-side, so both engines search with the same vector.
 */

const hitsOf = (body: any): ScoredHit[] =>
  (body.hits?.hits ?? []).map((h: any) => ({ id: String(h._id), score: Number(h._score) }));

export async function esFused(
  es: ElasticsearchClient,
  index: string,
  profile: RelevanceProfile,
  text: string,
  vector: readonly number[],
): Promise<FusedHit[]> {
  const [bm25, knn] = await Promise.all([
    quoting("elasticsearch", "BM25 query", () => es.search({ index, ...(esBm25Request(profile, text) as any) })),
    quoting("elasticsearch", "kNN query", () => es.search({ index, ...(esKnnRequest(profile, vector) as any) })),
  ]);
  return fuse([hitsOf(bm25), hitsOf(knn)], fusionSettings(profile));
}

export async function esHybrid(
  es: ElasticsearchClient,
  models: ModelClient,
  index: string,
  profile: RelevanceProfile,
  text: string,
  vector: readonly number[],
): Promise<ScoredHit[]> {
  const fused = await esFused(es, index, profile, text, vector);
  if (fused.length === 0) return [];
  const docs = await quoting("elasticsearch", "fetch of rerank window", () =>
    es.mget({ index, ids: fused.map((h) => h.id), _source_includes: [FIELDS.text] }),
  );
  const texts = docs.docs.map((d: any) => String(d._source?.[FIELDS.text] ?? ""));
  const scores = await models.rerank(text, texts);
  return applyRerank(fused, scores).slice(0, profile.topK);
}

export async function osHybrid(
  os: OpenSearchClient,
  index: string,
  pipeline: string,
  profile: RelevanceProfile,
  text: string,
  vector: readonly number[],
  mode: "rerank" | "fusion",
): Promise<ScoredHit[]> {
  const response = await quoting("opensearch", `hybrid query (${mode})`, () =>
    os.search({ index, search_pipeline: pipeline, body: osHybridQuery(profile, text, vector, mode) as any }),
  );
  const hits = hitsOf(response.body);
  // Rerank and fusion both sort by score; re-sort with the id tie-break the fusion module uses.
  return [...hits].sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
