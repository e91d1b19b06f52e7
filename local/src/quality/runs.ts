import type { RelevanceProfile } from "@search-backbone/relevance";
import { type LocalModels, localProfile } from "../render.ts";

/**
 * The runs of the retrieval-quality benchmark (scripts/bench-quality.sh) and how each goes through
 * the orchestrator. The orchestrator always fuses both engines' BM25 and kNN lists at the profile's
 * weights, then reranks the fused top `rerankWindow`; it has no switch for either. So:
 * - one index generation per embedder (the backbone's setup and ingestion under two aliases);
 * - BM25 alone and the vector alone are the profile with weights [1, 0] and [0, 1] (the fusion of one
 *   list is that list, min-max scaled; the other list's hits score 0 and fall below the window);
 * - a hybrid run and its reranked run are ONE /v1/search pass: the results come back in reranked
 *   order with `scores.fused`, the score they had before the reranker, and the window the reranker
 *   saw is exactly the fused top `rerankWindow` (retrieval.ts), so sorting the window by
 *   `scores.fused` (ties by id, as the orchestrator sorts) gives the hybrid run's ranking.
 * Each pass asks for topK = rerankWindow, so every hit of the window comes back.
 */

export type Generation = "base" | "tuned";
export type Reranker = "rerank-base" | "rerank-tuned";

export interface Pass {
  /** The run named after the fused order (undefined where only the reranked order is new). */
  readonly fused?: string;
  /** The run named after the reranked order (undefined for the single-retriever runs). */
  readonly reranked?: string;
  readonly generation: Generation;
  readonly reranker: Reranker;
  readonly weights: readonly [bm25: number, vector: number];
}

export const K = 10;

/** BM25 does not depend on the embedder, so it runs once (on the base generation). */
export function passes(hybrid: readonly [number, number]): Pass[] {
  return [
    { fused: "bm25", generation: "base", reranker: "rerank-base", weights: [1, 0] },
    { fused: "base-vector", generation: "base", reranker: "rerank-base", weights: [0, 1] },
    {
      fused: "base-hybrid",
      reranked: "base-hybrid+base-rerank",
      generation: "base",
      reranker: "rerank-base",
      weights: hybrid,
    },
    { reranked: "base-hybrid+tuned-rerank", generation: "base", reranker: "rerank-tuned", weights: hybrid },
    { fused: "tuned-vector", generation: "tuned", reranker: "rerank-tuned", weights: [0, 1] },
    {
      fused: "tuned-hybrid",
      reranked: "tuned-hybrid+tuned-rerank",
      generation: "tuned",
      reranker: "rerank-tuned",
      weights: hybrid,
    },
    { reranked: "tuned-hybrid+base-rerank", generation: "tuned", reranker: "rerank-base", weights: hybrid },
  ];
}

export const embedModel = (g: Generation) => ({ name: `embed-${g}`, version: "1", dims: 384, mar: `embed-${g}.mar` });
export const rerankModel = (r: Reranker) => ({ name: r, version: "1", mar: `${r}.mar` });

export function models(g: Generation, r: Reranker): LocalModels {
  return { embed: embedModel(g), rerank: rerankModel(r) };
}

/**
 * The profile of a pass: the local stack's (localProfile: depth 50, window 20) at the pass's weights.
 * A single-retriever pass reranks only the top K it is scored on (its reranked order is not used).
 */
export function passProfile(p: Pass): RelevanceProfile {
  const profile = localProfile(models(p.generation, p.reranker));
  const window = p.reranked ? profile.rerankWindow : K;
  return {
    ...profile,
    bm25Weight: p.weights[0],
    vectorWeight: p.weights[1],
    rerankWindow: window,
    topK: window,
  };
}

export interface SearchHit {
  readonly id: string;
  readonly docId: string;
  readonly scores: { readonly fused: number };
}

/** The document ids in the reranked order (as returned) and in the fused order (by `scores.fused`). */
export function orders(hits: readonly SearchHit[]): { reranked: string[]; fused: string[] } {
  const fused = [...hits].sort((a, b) => b.scores.fused - a.scores.fused || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { reranked: hits.map((h) => h.docId), fused: fused.map((h) => h.docId) };
}
