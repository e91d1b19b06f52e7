import type { RelevanceProfile } from "./types";

/**
 * The fusion math, in one place. OpenSearch runs it inside its normalization processor; the
 * orchestrator runs this module over Elasticsearch's BM25 and kNN results, because ES's own linear
 * fusion (8.18+) and RRF/reranker (Enterprise licence) are not available on Alibaba Cloud ES 8.17.
 *
 * Semantics follow OpenSearch's min_max + arithmetic_mean so both engines rank alike:
 * - each sub-query's top `depth` scores are min-max normalised: (s - min) / (max - min);
 *   when max == min every score becomes 1; a normalised 0 is floored to 0.001 (OpenSearch's MIN_SCORE,
 *   so a document found by a sub-query always outranks one it did not find);
 * - combined = sum(weight_i * normalised_i) / sum(weights), a missing sub-query counting 0;
 * - the top `window` fused hits go to the reranker; callers get `topK`.
 */

export interface FusionSettings {
  /** One weight per sub-query, in sub-query order ([BM25, kNN]); they sum to 1. */
  readonly weights: readonly number[];
  readonly depth: number;
  readonly window: number;
}

export interface ScoredHit {
  readonly id: string;
  readonly score: number;
}

export interface FusedHit extends ScoredHit {
  /** Normalised score per sub-query (undefined where that sub-query did not return the document). */
  readonly parts: readonly (number | undefined)[];
}

export const MIN_NORMALIZED_SCORE = 0.001;

export function fusionSettings(profile: RelevanceProfile): FusionSettings {
  return {
    weights: [profile.bm25Weight, profile.vectorWeight],
    depth: profile.candidateDepth,
    window: profile.rerankWindow,
  };
}

export function minMaxNormalize(hits: readonly ScoredHit[]): Map<string, number> {
  const normalized = new Map<string, number>();
  if (hits.length === 0) return normalized;
  const scores = hits.map((h) => h.score);
  const min = Math.min(...scores);
  const max = Math.max(...scores);
  for (const hit of hits) {
    if (max === min) normalized.set(hit.id, 1);
    else {
      const value = (hit.score - min) / (max - min);
      normalized.set(hit.id, value === 0 ? MIN_NORMALIZED_SCORE : value);
    }
  }
  return normalized;
}

/** Fuses sub-query results (one list per weight) into the top `window` hits, best first; ties by id. */
export function fuse(subResults: readonly (readonly ScoredHit[])[], settings: FusionSettings): FusedHit[] {
  if (subResults.length !== settings.weights.length) {
    throw new Error(`fusion: ${subResults.length} sub-query results for ${settings.weights.length} weights`);
  }
  const normalized = subResults.map((hits) => minMaxNormalize(hits.slice(0, settings.depth)));
  const ids = new Set(normalized.flatMap((scores) => [...scores.keys()]));
  const weightSum = settings.weights.reduce((a, b) => a + b, 0);
  const fused: FusedHit[] = [...ids].map((id) => {
    const parts = normalized.map((scores) => scores.get(id));
    const combined = parts.reduce<number>((sum, part, i) => sum + (settings.weights[i] ?? 0) * (part ?? 0), 0);
    return { id, score: weightSum > 0 ? combined / weightSum : 0, parts };
  });
  return fused.sort(byScoreThenId).slice(0, settings.window);
}

/** Orders hits by reranker scores (index-aligned with `hits`), best first; ties by id. */
export function applyRerank<T extends ScoredHit>(hits: readonly T[], scores: readonly number[]): (T & ScoredHit)[] {
  if (scores.length !== hits.length) {
    throw new Error(`rerank: ${scores.length} scores for ${hits.length} hits`);
  }
  return hits.map((hit, i) => ({ ...hit, score: scores[i] as number })).sort(byScoreThenId);
}

export function byScoreThenId(a: ScoredHit, b: ScoredHit): number {
  return b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** Share of `a`'s top k also in `b`'s top k. */
export function overlapAtK(a: readonly string[], b: readonly string[], k: number): number {
  const top = new Set(b.slice(0, k));
  const n = Math.min(k, a.length, b.length);
  if (n === 0) return a.length === b.length ? 1 : 0;
  return a.slice(0, k).filter((id) => top.has(id)).length / n;
}

/**
 * Kendall's tau-a over the documents both rankings share (1 = same order, -1 = reversed). With
 * fewer than two shared documents the order cannot disagree, so it is 1.
 */
export function kendallTau(a: readonly string[], b: readonly string[]): number {
  const rankB = new Map(b.map((id, i) => [id, i]));
  const shared = a.filter((id) => rankB.has(id));
  if (shared.length < 2) return 1;
  let concordant = 0;
  let discordant = 0;
  for (let i = 0; i < shared.length; i++) {
    for (let j = i + 1; j < shared.length; j++) {
      const order = (rankB.get(shared[j] as string) as number) - (rankB.get(shared[i] as string) as number);
      if (order > 0) concordant++;
      else if (order < 0) discordant++;
    }
  }
  const pairs = (shared.length * (shared.length - 1)) / 2;
  return (concordant - discordant) / pairs;
}
