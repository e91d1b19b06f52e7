import { ModelClient, type ModelEndpoints, type RelevanceProfile } from "@search-backbone/relevance";
import type { ModelServer } from "@search-backbone/test-engines";

/**
 * Endpoints and model clients on the local contract model server, for a profile. The server is read
 * at each call: suites start it in beforeAll, after these are made.
 */
export function contractModels(server: () => ModelServer) {
  const endpointsFor = (profile: RelevanceProfile): ModelEndpoints => ({
    embedding: {
      url: server().embeddingUrl(profile.embedding.dims),
      model: profile.embedding.model,
      protocol: "contract",
      dims: profile.embedding.dims,
      authSecret: null,
    },
    rerank: {
      url: server().rerankUrl,
      model: profile.rerank.model,
      protocol: "contract",
      dims: null,
      authSecret: null,
    },
  });
  const clientFor = (profile: RelevanceProfile) =>
    new ModelClient({ endpoints: endpointsFor(profile), maxBatch: 16, concurrency: 2 });
  return { endpointsFor, clientFor };
}
