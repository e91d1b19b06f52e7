import { EngineError, type OpenSearchClient, osRequest } from "@search-backbone/engines";
import {
  type ConnectorAuth,
  indexNames,
  type ModelEndpoints,
  osClusterSettings,
  osEmbeddingConnector,
  osFusionPipeline,
  osIndexBody,
  osIngestPipeline,
  osModelGroup,
  osRemoteModel,
  osRerankConnector,
  osSearchPipeline,
  type RelevanceProfile,
} from "@search-backbone/relevance";
import { aliasTarget, indexExists, osRequester, swapAlias } from "./aliases";

export interface OpenSearchSetup {
  readonly index: string;
  readonly alias: string;
  readonly aliasTarget: string | undefined;
  readonly embeddingModelId: string;
  readonly rerankModelId: string;
}

export interface OpenSearchSetupOptions {
  readonly base: string;
  readonly profile: RelevanceProfile;
  readonly endpoints: ModelEndpoints;
  readonly auth?: ConnectorAuth;
  readonly replicas?: number;
}

/** Idempotent: every object is found by its (content-derived) name before anything is created. */
export async function setupOpenSearch(os: OpenSearchClient, options: OpenSearchSetupOptions): Promise<OpenSearchSetup> {
  const { base, profile, endpoints } = options;
  const names = indexNames(base, profile);
  const req = <T = any>(step: string, method: string, path: string, body?: unknown) =>
    osRequest<T>(os, step, method, path, body);

  await req("cluster settings for ml-commons connectors", "PUT", "/_cluster/settings", osClusterSettings(endpoints));
  const groupId = await ensureModelGroup(os, base);
  const embeddingModelId = await ensureRemoteModel(os, groupId, osEmbeddingConnector(base, endpoints, options.auth));
  const rerankModelId = await ensureRemoteModel(os, groupId, osRerankConnector(base, endpoints, options.auth));

  await req("ingest pipeline", "PUT", `/_ingest/pipeline/${names.ingestPipeline}`, osIngestPipeline(embeddingModelId));
  await req("fusion search pipeline", "PUT", `/_search/pipeline/${names.fusionPipeline}`, osFusionPipeline(profile));
  await req(
    "hybrid + rerank search pipeline",
    "PUT",
    `/_search/pipeline/${names.searchPipeline}`,
    osSearchPipeline(profile, rerankModelId),
  );

  const target = await ensureOpenSearchIndex(os, {
    base,
    profile,
    ...(options.replicas ? { replicas: options.replicas } : {}),
  });
  return { index: names.index, alias: names.alias, aliasTarget: target, embeddingModelId, rerankModelId };
}

/**
 * The profile's index, created when missing, and the alias. First install: the alias points at the
 * new index at once; a rebuild keeps the old target until ingestion has filled the new index (ingest
 * swaps it). Returns the alias's target.
 */
export async function ensureOpenSearchIndex(
  os: OpenSearchClient,
  options: { base: string; profile: RelevanceProfile; replicas?: number },
): Promise<string> {
  const names = indexNames(options.base, options.profile);
  const request = osRequester(os);
  if (!(await indexExists(request, names.index))) {
    await osRequest(
      os,
      `creation of index ${names.index}`,
      "PUT",
      `/${names.index}`,
      osIndexBody(options.profile, options.replicas),
    );
  }
  const target = await aliasTarget(request, names.alias);
  if (target) return target;
  await swapAlias(request, names.alias, names.index);
  return names.index;
}

async function ensureModelGroup(os: OpenSearchClient, base: string): Promise<string> {
  const group = osModelGroup(base);
  const found = await mlSearch(os, "model group search", "/_plugins/_ml/model_groups/_search", {
    size: 100,
    query: { match_phrase: { name: group.name } },
  });
  const hit = found.hits?.hits?.find((h: any) => h._source?.name === group.name);
  if (hit) return hit._id;
  const created = await mlRetry(() =>
    osRequest(os, `model group ${group.name}`, "POST", "/_plugins/_ml/model_groups/_register", group),
  );
  return created.model_group_id;
}

async function ensureRemoteModel(
  os: OpenSearchClient,
  groupId: string,
  connector: { name: string } & Record<string, unknown>,
): Promise<string> {
  const found = await mlSearch(os, "model search", "/_plugins/_ml/models/_search", {
    size: 100,
    query: { bool: { must: [{ match_phrase: { name: connector.name } }, { term: { algorithm: "REMOTE" } }] } },
  });
  const existing = found.hits?.hits?.find((h: any) => h._source?.name === connector.name);
  let modelId: string;
  if (existing) {
    modelId = existing._id;
  } else {
    const createdConnector = await mlRetry(() =>
      osRequest(os, `connector ${connector.name}`, "POST", "/_plugins/_ml/connectors/_create", connector),
    );
    const registered = await mlRetry(() =>
      osRequest(
        os,
        `model registration ${connector.name}`,
        "POST",
        "/_plugins/_ml/models/_register",
        osRemoteModel(connector.name, groupId, createdConnector.connector_id),
      ),
    );
    modelId = registered.model_id ?? (await waitForTask(os, registered.task_id)).model_id;
  }
  const model = await osRequest(os, `model ${modelId}`, "GET", `/_plugins/_ml/models/${modelId}`);
  if (model.model_state !== "DEPLOYED") {
    const deploy = await osRequest(
      os,
      `deployment of ${connector.name}`,
      "POST",
      `/_plugins/_ml/models/${modelId}/_deploy`,
    );
    if (deploy.task_id) await waitForTask(os, deploy.task_id);
  }
  return modelId;
}

const TRANSIENT_ML = /Fail(ed)? to search|all shards failed|no_shard_available|index_not_found_exception/;

/**
 * ml-commons creates its system indices on first use; until their shards are active its own
 * uniqueness checks fail ("Failed to search indices [.plugins-ml-model-group]: all shards failed").
 * Retried for up to a minute; any other error is the engine's and fails setup at once.
 */
async function mlRetry<T>(run: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      const text = error instanceof EngineError ? JSON.stringify(error.detail) : "";
      if (!TRANSIENT_ML.test(text) || attempt >= 30) throw error;
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }
}

/**
 * On a fresh cluster ml-commons' system indices do not exist until the first object is created, and
 * its search APIs then fail ("Fail to search" / index_not_found) rather than return no hits.
 */
async function mlSearch(os: OpenSearchClient, step: string, path: string, body: unknown): Promise<any> {
  try {
    return await osRequest(os, step, "POST", path, body);
  } catch (error) {
    const text = error instanceof EngineError ? JSON.stringify(error.detail) : "";
    if (TRANSIENT_ML.test(text)) return { hits: { hits: [] } };
    throw error;
  }
}

async function waitForTask(os: OpenSearchClient, taskId: string): Promise<{ model_id: string }> {
  for (let i = 0; i < 240; i++) {
    const task = await osRequest(os, `ml task ${taskId}`, "GET", `/_plugins/_ml/tasks/${taskId}`);
    if (task.state === "COMPLETED") return task;
    if (task.state === "FAILED") throw new Error(`opensearch rejected ml task ${taskId}: ${task.error ?? "FAILED"}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`opensearch ml task ${taskId} did not complete in 60 s`);
}
