// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ml-commons placeholders like ${parameters.input} are literal

import type { ModelEndpoints } from "./endpoints";
import { stableHash } from "./hash";
import { chunkMappings } from "./mapping";
import { FIELDS, HNSW, type RelevanceProfile, type Similarity } from "./types";

/**
 * OpenSearch objects rendered from the profile: the k-NN index, the cluster settings that let
 * ml-commons call the in-VPC model endpoints, connectors + model group + models for embedding and
 * rerank, an ingest pipeline, and search pipelines doing the same fusion as fusion.ts followed by
 * the reranker. Facts and pitfalls: OpenSearch docs on k-NN, neural-search and ml-commons (see the
 * comments at each object).
 */

/** ES `cosine` and OS `cosinesimil` both score (1 + cos) / 2. */
export const OS_SPACE: Record<Similarity, string> = {
  cosine: "cosinesimil",
  dot_product: "innerproduct",
  l2_norm: "l2",
};

export function osIndexBody(profile: RelevanceProfile, replicas = 0): Record<string, unknown> {
  return {
    settings: {
      index: {
        // Static: without it a `method` mapping is refused, and a bare knn_vector silently gets no ANN.
        knn: true,
        number_of_shards: 1,
        number_of_replicas: replicas,
      },
    },
    mappings: chunkMappings(profile, {
      type: "knn_vector",
      dimension: profile.embedding.dims,
      method: {
        name: "hnsw",
        space_type: OS_SPACE[profile.similarity],
        // Lucene, not faiss: same HNSW implementation as ES, and no native library needed.
        engine: "lucene",
        parameters: { m: HNSW.m, ef_construction: HNSW.efConstruction },
      },
    }),
  };
}

const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

/**
 * Persistent cluster settings. ml-commons only calls URLs matching a trusted regex (the default
 * trusts public SaaS hosts only) and refuses private addresses unless private_ip_enabled (2.15+);
 * the model endpoints are in-VPC, so both are needed. Remote models run on data nodes.
 */
export function osClusterSettings(endpoints: ModelEndpoints): Record<string, unknown> {
  const origins = [...new Set([endpoints.embedding.url, endpoints.rerank.url].map((url) => new URL(url).origin))];
  return {
    persistent: {
      "plugins.ml_commons.trusted_connector_endpoints_regex": origins.map((o) => `^${escapeRegex(o)}/.*$`),
      "plugins.ml_commons.connector.private_ip_enabled": true,
      "plugins.ml_commons.only_run_on_ml_node": false,
    },
  };
}

export interface ConnectorAuth {
  /** Bearer token for the model endpoints; stored by ml-commons encrypted, never rendered into state. */
  readonly apiKey?: string;
}

const clientConfig = { connection_timeout: 10, read_timeout: 30, max_retry_times: 2 };

/**
 * ml-commons refuses a connector without credentials ("Connector credential is null or empty list"),
 * so an endpoint without token authorisation still gets a placeholder that no header uses.
 */
function authParts(auth: ConnectorAuth): { credential: Record<string, string>; headers: Record<string, string> } {
  const headers: Record<string, string> = { "Content-Type": "application/json" };
  if (!auth.apiKey) return { credential: { unused: "none" }, headers };
  return { credential: { key: auth.apiKey }, headers: { ...headers, Authorization: "Bearer ${credential.key}" } };
}

/** OpenAI-shaped embedding endpoint through ml-commons' built-in openai pre/post functions. */
export function osEmbeddingConnector(base: string, endpoints: ModelEndpoints, auth: ConnectorAuth = {}) {
  const { credential, headers } = authParts(auth);
  const body = {
    description: `embeddings (${endpoints.embedding.model}, ${endpoints.embedding.dims} dims)`,
    version: 1,
    protocol: "http",
    parameters: { model: endpoints.embedding.model },
    credential,
    client_config: clientConfig,
    actions: [
      {
        action_type: "predict",
        method: "POST",
        url: endpoints.embedding.url,
        headers,
        request_body: '{ "input": ${parameters.input}, "model": "${parameters.model}" }',
        pre_process_function: "connector.pre_process.openai.embedding",
        post_process_function: "connector.post_process.openai.embedding",
      },
    ],
  };
  return { name: `${base}-embedding-${stableHash(body)}`, ...body };
}

/**
 * Cohere-shaped rerank endpoint. The cohere pre-function sets top_n = number of documents, which the
 * rerank processor needs (fewer scores than hits fails with "scores and hits are not the same length").
 * [I] `${parameters.query}` is substituted unescaped inside quotes, so a query containing `"` may break.
 */
export function osRerankConnector(base: string, endpoints: ModelEndpoints, auth: ConnectorAuth = {}) {
  const { credential, headers } = authParts(auth);
  const body = {
    description: `rerank (${endpoints.rerank.model})`,
    version: 1,
    protocol: "http",
    parameters: {},
    credential,
    client_config: clientConfig,
    actions: [
      {
        action_type: "predict",
        method: "POST",
        url: endpoints.rerank.url,
        headers,
        request_body:
          '{ "documents": ${parameters.documents}, "query": "${parameters.query}", "top_n": ${parameters.top_n} }',
        pre_process_function: "connector.pre_process.cohere.rerank",
        post_process_function: "connector.post_process.cohere.rerank",
      },
    ],
  };
  return { name: `${base}-rerank-${stableHash(body)}`, ...body };
}

export function osModelGroup(base: string) {
  return { name: `${base}-models`, description: "Remote embedding and rerank models of the relevance profile" };
}

/** A remote model over a connector; the name carries the connector's name, so a changed connector registers anew. */
export function osRemoteModel(connectorName: string, modelGroupId: string, connectorId: string) {
  return {
    name: connectorName,
    function_name: "remote",
    model_group_id: modelGroupId,
    connector_id: connectorId,
    description: `remote model over connector ${connectorName}`,
  };
}

/** For writers that send text only; ingestion sends its own vectors, so this is not the index default. */
export function osIngestPipeline(embeddingModelId: string) {
  return {
    description: "Embeds content into the profile's vector field through the embedding model",
    processors: [{ text_embedding: { model_id: embeddingModelId, field_map: { [FIELDS.text]: FIELDS.vector } } }],
  };
}

/**
 * Hybrid fusion: min-max per sub-query, then arithmetic mean at the profile's weights, in the order
 * of the hybrid query's sub-queries [BM25, kNN]. Weights must sum to 1 and match the sub-query count.
 */
export function osFusionPipeline(profile: RelevanceProfile) {
  return {
    description: `min_max + arithmetic_mean [bm25 ${profile.bm25Weight}, vector ${profile.vectorWeight}]`,
    phase_results_processors: [
      {
        "normalization-processor": {
          normalization: { technique: "min_max" },
          combination: {
            technique: "arithmetic_mean",
            parameters: { weights: [profile.bm25Weight, profile.vectorWeight] },
          },
        },
      },
    ],
  };
}

/** Fusion followed by the reranker, which re-scores exactly the hits of the response (size = window). */
export function osSearchPipeline(profile: RelevanceProfile, rerankModelId: string) {
  return {
    ...osFusionPipeline(profile),
    description: `${osFusionPipeline(profile).description}, then rerank of the top ${profile.rerankWindow}`,
    response_processors: [
      { rerank: { ml_opensearch: { model_id: rerankModelId }, context: { document_fields: [FIELDS.text] } } },
    ],
  };
}

/**
 * The hybrid query. Each sub-query contributes `pagination_depth` = candidate depth; `size` is what
 * the pipeline keeps: the rerank window with rerank, or the depth for fusion alone. Filters go into
 * both sub-queries: a bool filter around the match, and the knn query's own `filter`, which the
 * Lucene engine applies during the HNSW search (efficient filtering, OpenSearch k-NN docs "Filtering
 * data"), so restricted chunks never take one of the k slots.
 */
export function osHybridQuery(
  profile: RelevanceProfile,
  text: string,
  vector: readonly number[],
  mode: "rerank" | "fusion",
  filter: readonly Record<string, unknown>[] = [],
): Record<string, unknown> {
  const match = { match: { [FIELDS.text]: { query: text } } };
  const knn = {
    [FIELDS.vector]: {
      vector: [...vector],
      k: profile.candidateDepth,
      ...(filter.length > 0 ? { filter: { bool: { filter: [...filter] } } } : {}),
    },
  };
  const query = {
    size: mode === "rerank" ? profile.rerankWindow : profile.candidateDepth,
    _source: { excludes: [FIELDS.vector] },
    query: {
      hybrid: {
        pagination_depth: profile.candidateDepth,
        queries: [filter.length > 0 ? { bool: { must: [match], filter: [...filter] } } : match, { knn }],
      },
    },
  };
  return mode === "rerank" ? { ...query, ext: { rerank: { query_context: { query_text: text } } } } : query;
}
