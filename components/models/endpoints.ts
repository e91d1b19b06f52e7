import type { ModelEndpoints, ModelRole } from "@search-backbone/relevance";

/** Per role, the URL of a gateway that speaks the model-endpoint contract in front of the role's model. */
export interface Gateways {
  readonly embeddingUrl?: string | undefined;
  readonly rerankUrl?: string | undefined;
}

export const GATEWAY_KEY: Readonly<Record<ModelRole, keyof Gateways>> = {
  embedding: "embeddingUrl",
  rerank: "rerankUrl",
};

/** Why the search jobs cannot call a role's endpoint, as the field to set and what to set it to. */
export const missingGateway = (role: ModelRole, url: string): string =>
  `gateways.${GATEWAY_KEY[role]}: not set, and the ${role} endpoint ${url} speaks DashScope's native API; expected the URL of a gateway that speaks the model-endpoint contract`;

/**
 * The model endpoints the search jobs (ingestion, OpenSearch's connectors) and the orchestrator both
 * call, so queries and documents are embedded by the same model: the served endpoints, or per role a
 * configured gateway that speaks the model-endpoint contract. Neither the search jobs nor ml-commons'
 * connectors speak DashScope's native API, so such a role needs a gateway (the config rules say so
 * first, naming the stack's key). Pure: tested directly.
 */
export function retrievalEndpoints(endpoints: ModelEndpoints, gateways: Gateways): ModelEndpoints {
  const served = (role: ModelRole) => {
    const gateway = gateways[GATEWAY_KEY[role]];
    if (gateway) return { ...endpoints[role], url: gateway, protocol: "contract" as const, authSecret: null };
    if (endpoints[role].protocol !== "contract") throw new Error(missingGateway(role, endpoints[role].url));
    return endpoints[role];
  };
  return { embedding: served("embedding"), rerank: served("rerank") };
}

/**
 * The endpoints the search component and its jobs read. `model` is the profile's: it is what each
 * index generation records as the model that embedded its vectors, and what the setup checks the
 * profile against. The contract ignores `model` in request bodies (models/CONTRACT.md); on TorchServe
 * the URL names the served model (`embed`, a fine-tune of the profile's base model). `dims` are the
 * endpoint's where it declares them, else the profile's. Protocol and auth secret pass through.
 */
export function searchEndpoints(
  endpoints: ModelEndpoints,
  profile: {
    readonly embedding: { readonly model: string; readonly dims: number };
    readonly rerank: { readonly model: string };
  },
): ModelEndpoints {
  const { embedding, rerank } = endpoints;
  return {
    embedding: { ...embedding, model: profile.embedding.model, dims: embedding.dims ?? profile.embedding.dims },
    rerank: { ...rerank, model: profile.rerank.model },
  };
}
