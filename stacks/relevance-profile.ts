import type { RelevanceProfile } from "@search-backbone/relevance";
import type { BackboneConfig } from "./config";

/** The relevance profile both engines and the orchestrator rank by, from the validated config. */
export function relevanceProfile(relevance: BackboneConfig["relevance"]): RelevanceProfile {
  return {
    embedding: { model: relevance.embedding.model, dims: relevance.embedding.dims },
    rerank: { model: relevance.rerank.model },
    similarity: relevance.similarity,
    bm25Weight: relevance.bm25Weight,
    vectorWeight: relevance.vectorWeight,
    candidateDepth: relevance.candidateDepth,
    rerankWindow: relevance.rerankWindow,
    topK: relevance.topK,
    analyzer: relevance.analyzer,
  };
}
