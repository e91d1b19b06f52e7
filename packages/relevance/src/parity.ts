import { esBm25Request, esIndexBody, esKnnRequest } from "./elasticsearch";
import type { ModelEndpoints } from "./endpoints";
import { type FusionSettings, fusionSettings } from "./fusion";
import {
  OS_SPACE,
  osFusionPipeline,
  osHybridQuery,
  osIndexBody,
  osRerankConnector,
  osSearchPipeline,
} from "./opensearch";
import type { RelevanceSummary } from "./summary";
import { FIELDS, type RelevanceProfile } from "./types";

/**
 * What decides ranking, read back from each engine's *rendered* objects (not from the profile), so
 * a renderer that drifts from the other shows up as a difference here.
 */
export interface RankingFacts {
  readonly dims: number;
  readonly similarity: string;
  readonly hnsw: { readonly m: number; readonly efConstruction: number; readonly quantized: boolean };
  readonly primaryShards: number;
  readonly analyzer: string;
  readonly normalization: string;
  readonly combination: string;
  readonly weights: readonly number[];
  readonly depth: { readonly bm25: number; readonly knn: number };
  readonly rerankWindow: number;
  readonly rerankUrl: string;
}

export interface EsRendering {
  readonly index: Record<string, any>;
  readonly bm25: Record<string, any>;
  readonly knn: Record<string, any>;
  readonly fusion: FusionSettings;
  /** The endpoint the orchestrator calls for ES results. */
  readonly rerankUrl: string;
}

export interface OsRendering {
  readonly index: Record<string, any>;
  readonly fusionPipeline: Record<string, any>;
  readonly searchPipeline: Record<string, any>;
  readonly hybridQuery: Record<string, any>;
  readonly rerankConnector: Record<string, any>;
}

export function renderEs(profile: RelevanceProfile, endpoints: ModelEndpoints): EsRendering {
  return {
    index: esIndexBody(profile),
    bm25: esBm25Request(profile, "q"),
    knn: esKnnRequest(profile, new Array(profile.embedding.dims).fill(0.1)),
    fusion: fusionSettings(profile),
    rerankUrl: endpoints.rerank.url,
  };
}

export function renderOs(profile: RelevanceProfile, endpoints: ModelEndpoints, base = "parity"): OsRendering {
  return {
    index: osIndexBody(profile),
    fusionPipeline: osFusionPipeline(profile),
    searchPipeline: osSearchPipeline(profile, "rerank-model-id"),
    hybridQuery: osHybridQuery(profile, "q", new Array(profile.embedding.dims).fill(0.1), "rerank"),
    rerankConnector: osRerankConnector(base, endpoints),
  };
}

const ES_TO_CANONICAL: Record<string, string> = { cosine: "cosine", dot_product: "dot_product", l2_norm: "l2_norm" };
const OS_TO_CANONICAL: Record<string, string> = Object.fromEntries(
  Object.entries(OS_SPACE).map(([canonical, space]) => [space, canonical]),
);

export function esFacts(r: EsRendering): RankingFacts {
  const props = r.index.mappings.properties;
  const vector = props[FIELDS.vector];
  return {
    dims: vector.dims,
    similarity: ES_TO_CANONICAL[vector.similarity] ?? `unknown:${vector.similarity}`,
    hnsw: {
      m: vector.index_options.m,
      efConstruction: vector.index_options.ef_construction,
      quantized: vector.index_options.type !== "hnsw",
    },
    primaryShards: r.index.settings.number_of_shards,
    analyzer: props[FIELDS.text].analyzer,
    // The orchestrator's fusion module is min-max + weighted arithmetic mean by construction.
    normalization: "min_max",
    combination: "arithmetic_mean",
    weights: r.fusion.weights,
    depth: { bm25: Math.min(r.bm25.size, r.fusion.depth), knn: Math.min(r.knn.knn.k, r.fusion.depth) },
    rerankWindow: r.fusion.window,
    rerankUrl: r.rerankUrl,
  };
}

export function osFacts(r: OsRendering): RankingFacts {
  const props = r.index.mappings.properties;
  const vector = props[FIELDS.vector];
  const processor = r.searchPipeline.phase_results_processors[0]["normalization-processor"];
  const fusionOnly = r.fusionPipeline.phase_results_processors[0]["normalization-processor"];
  const hybrid = r.hybridQuery.query.hybrid;
  const knn = hybrid.queries[1].knn[FIELDS.vector];
  const weights: number[] = processor.combination.parameters.weights;
  const sameFusion = JSON.stringify(processor) === JSON.stringify(fusionOnly);
  return {
    dims: vector.dimension,
    similarity: OS_TO_CANONICAL[vector.method.space_type] ?? `unknown:${vector.method.space_type}`,
    hnsw: {
      m: vector.method.parameters.m,
      efConstruction: vector.method.parameters.ef_construction,
      quantized: vector.method.engine !== "lucene" || r.index.settings.index.knn !== true,
    },
    primaryShards: r.index.settings.index.number_of_shards,
    analyzer: props[FIELDS.text].analyzer,
    normalization: sameFusion ? processor.normalization.technique : "differs between pipelines",
    combination: sameFusion ? processor.combination.technique : "differs between pipelines",
    weights,
    depth: { bm25: hybrid.pagination_depth, knn: Math.min(knn.k, hybrid.pagination_depth) },
    // The rerank processor re-scores exactly the hits in the response.
    rerankWindow: r.searchPipeline.response_processors?.[0]?.rerank ? r.hybridQuery.size : 0,
    rerankUrl: r.rerankConnector.actions[0].url,
  };
}

export interface Divergence {
  readonly fact: string;
  readonly elasticsearch: unknown;
  readonly opensearch: unknown;
}

/** Every fact on which the two renderings disagree (empty when they rank alike). */
export function divergences(es: RankingFacts, os: RankingFacts): Divergence[] {
  const keys = Object.keys(es) as (keyof RankingFacts)[];
  return keys
    .filter((key) => JSON.stringify(es[key]) !== JSON.stringify(os[key]))
    .map((key) => ({ fact: key, elasticsearch: es[key], opensearch: os[key] }));
}

/**
 * The engine-neutral summary that the policy pack's `relevance-engines-agree` rule compares
 * (policy/relevance.ts declares the same shape; the policy pack is its own package). It is computed
 * from each engine's rendered objects, so a renderer that drifts shows up at `pulumi preview`.
 */

export function relevanceSummary(
  engine: RelevanceSummary["engine"],
  facts: RankingFacts,
  topK: number,
): RelevanceSummary {
  const [bm25Weight = Number.NaN, vectorWeight = Number.NaN] = facts.weights;
  return {
    engine,
    bm25Weight,
    vectorWeight,
    similarity: facts.similarity,
    embeddingDims: facts.dims,
    // The depth both sub-queries reach: the shallower one bounds what fusion sees.
    candidateDepth: Math.min(facts.depth.bm25, facts.depth.knn),
    rerankWindow: facts.rerankWindow,
    // Neither engine renders topK: the orchestrator cuts the reranked window to it.
    topK,
  };
}

/** Both engines' summaries, rendered from one profile. */
export function relevanceSummaries(profile: RelevanceProfile, endpoints: ModelEndpoints): RelevanceSummary[] {
  return [
    relevanceSummary("elasticsearch", esFacts(renderEs(profile, endpoints)), profile.topK),
    relevanceSummary("opensearch", osFacts(renderOs(profile, endpoints)), profile.topK),
  ];
}
