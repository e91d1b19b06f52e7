import type { ModelEndpoint, ModelRole } from "@search-backbone/relevance";

/**
 * The `modelEndpoints` stack output (the relevance package's `ModelEndpoints`): how a consumer calls
 * the embedding and the rerank model, whichever backend serves it. Pure functions, so the exact URLs
 * are unit-tested.
 *
 * - protocol "contract": the project's model-endpoint contract (models/CONTRACT.md: OpenAI
 *   embeddings shape, Cohere rerank shape) on TorchServe, POST <NLB>/predictions/<model name>.
 *   No auth secret: TorchServe's token auth is off by design; the internal NLB and a security group
 *   that admits only the VPC are the boundary (components/serving/user-data.ts).
 * - protocol "dashscope": DashScope's native APIs (https://help.aliyun.com/en/model-studio/text-embedding-synchronous-api,
 *   https://help.aliyun.com/en/model-studio/text-rerank-api) with `Authorization: Bearer <key>`;
 *   the key is in the secret named by `authSecret` (the stack's secret output `modelSecrets`).
 */

// The one ModelEndpoints type is the relevance package's; this module only builds endpoints of it.
export type { ModelEndpoint, ModelEndpoints, ModelRole, Protocol } from "@search-backbone/relevance";

/** The secret (a key in `modelSecrets`, and the Kubernetes Secret consumers mount) with the DashScope key. */
export const DASHSCOPE_AUTH_SECRET = "dashscope-api-key";

const DASHSCOPE_PATHS: Readonly<Record<ModelRole, string>> = {
  embedding: "/api/v1/services/embeddings/text-embedding/text-embedding",
  rerank: "/api/v1/services/rerank/text-rerank/text-rerank",
};

export function torchserveEndpoint(baseUrl: string, role: ModelRole, modelName: string, dims?: number): ModelEndpoint {
  if (!/^http:\/\/[^/\s]+$/.test(baseUrl))
    throw new Error(`expected the NLB base URL http://host:port, got ${baseUrl}`);
  return {
    url: `${baseUrl}/predictions/${encodeURIComponent(modelName)}`,
    model: modelName,
    protocol: "contract",
    dims: role === "embedding" ? (dims ?? null) : null,
    authSecret: null,
  };
}

/** The secret (a key in `modelSecrets`) with the token of the EAS service that hosts the archives. */
export const EAS_MODELS_AUTH_SECRET = "eas-models-token";

/**
 * TorchServe on PAI-EAS (serving.backend eas): the same handlers and archives as the gn7i hosts, so
 * the same contract and paths, under the service's VPC address; the EAS gateway wants the service
 * token, which the clients send as their bearer key (MODEL_API_KEY) [I: that EAS's gateway takes the
 * `Bearer <token>` form as well as the bare token; public OpenAI-SDK clients of EAS send it so].
 */
export function easTorchserveEndpoint(
  serviceUrl: string,
  role: ModelRole,
  modelName: string,
  dims?: number,
): ModelEndpoint {
  if (!/^https?:\/\/[^/\s]+\/api\/predict\/[a-z0-9_]+$/.test(serviceUrl))
    throw new Error(`expected the EAS service address http://host/api/predict/<service>, got ${serviceUrl}`);
  return {
    url: `${serviceUrl}/predictions/${encodeURIComponent(modelName)}`,
    model: modelName,
    protocol: "contract",
    dims: role === "embedding" ? (dims ?? null) : null,
    authSecret: EAS_MODELS_AUTH_SECRET,
  };
}

export function bailianEndpoint(baseUrl: string, role: ModelRole, model: string, dims?: number): ModelEndpoint {
  if (!/^https:\/\/[^/\s]+\/?$/.test(baseUrl))
    throw new Error(`expected the DashScope base URL https://host, got ${baseUrl}`);
  return {
    url: `${baseUrl.replace(/\/$/, "")}${DASHSCOPE_PATHS[role]}`,
    model,
    protocol: "dashscope",
    dims: role === "embedding" ? (dims ?? null) : null,
    authSecret: DASHSCOPE_AUTH_SECRET,
  };
}
