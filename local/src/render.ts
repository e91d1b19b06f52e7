import { DEFAULT_PROFILE, type ModelEndpoints, type RelevanceProfile } from "@search-backbone/relevance";
import type { Ports, WorkLayout } from "./layout.ts";

/** What local-models.json says the model store holds (models/ local-models contract). */
export interface LocalModels {
  readonly embed: { readonly name: string; readonly version: string; readonly dims: number; readonly mar: string };
  readonly rerank: {
    readonly name: string;
    readonly version: string;
    readonly mar: string;
    /** Whether models/ recommends reranking with it (false: it measurably hurts); absent: no advice. */
    readonly recommended?: boolean;
    /** Where the figures behind `recommended` are (a section of models/README.md). */
    readonly evidence?: string;
  };
}

export function parseLocalModels(text: string, where: string): LocalModels {
  let value: any;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`${where}: not JSON (${(error as Error).message})`);
  }
  const problems: string[] = [];
  const str = (v: unknown, field: string) => {
    if (typeof v !== "string" || v === "")
      problems.push(`${field}: expected a non-empty string, got ${JSON.stringify(v)}`);
  };
  for (const role of ["embed", "rerank"] as const) {
    str(value?.[role]?.name, `${role}.name`);
    str(value?.[role]?.version, `${role}.version`);
    str(value?.[role]?.mar, `${role}.mar`);
  }
  const recommended = value?.rerank?.recommended;
  if (recommended !== undefined && typeof recommended !== "boolean")
    problems.push(`rerank.recommended: expected true or false, got ${JSON.stringify(recommended)}`);
  const dims = value?.embed?.dims;
  if (!Number.isInteger(dims) || dims < 1)
    problems.push(`embed.dims: expected a positive integer, got ${JSON.stringify(dims)}`);
  if (problems.length > 0) throw new Error(`${where}: ${problems.join("; ")}`);
  return value as LocalModels;
}

/**
 * Whether the stack reranks: as `--rerank`/`--no-rerank` says, else as local-models.json recommends.
 * The reason is printed before `ready` and names the flag that changes it.
 */
export function rerankChoice(flag: boolean | undefined, models: LocalModels): { enabled: boolean; reason: string } {
  const r = models.rerank;
  const evidence = r.evidence ? ` (${r.evidence})` : "";
  if (flag === false) return { enabled: false, reason: "off (--no-rerank): results keep the engines' fused order" };
  if (flag === true)
    return {
      enabled: true,
      reason:
        r.recommended === false
          ? `on (--rerank) with ${r.name} v${r.version}, although local-models.json does not recommend it: it lowers held-out MRR@10${evidence}`
          : `on (--rerank) with ${r.name} v${r.version}`,
    };
  if (r.recommended === false)
    return {
      enabled: false,
      reason: `off: local-models.json does not recommend the docs-trained reranker (served as ${r.name} v${r.version}): it lowers held-out MRR@10${evidence}; results keep the engines' fused order; npm start -- --rerank turns it on`,
    };
  return { enabled: true, reason: `on with ${r.name} v${r.version}; npm start -- --no-rerank turns it off` };
}

/** The model name an index generation records: name and version, so a new version is a new generation. */
export const servedModel = (m: { name: string; version: string }) => `${m.name}-v${m.version}`;

/**
 * The relevance profile of the local stack: the default's weights and analyzer, the served models,
 * and depths a 2-core CPU reranks in well under a second per query.
 */
export function localProfile(models: LocalModels): RelevanceProfile {
  return {
    ...DEFAULT_PROFILE,
    embedding: { model: servedModel(models.embed), dims: models.embed.dims },
    rerank: { model: servedModel(models.rerank) },
    candidateDepth: 50,
    rerankWindow: 20,
    topK: 8,
  };
}

/** TorchServe's contract endpoints for the two models (POST /predictions/<name>/<version>). */
export function localEndpoints(inference: string, models: LocalModels): ModelEndpoints {
  const url = (m: { name: string; version: string }) => `${inference}/predictions/${m.name}/${m.version}`;
  return {
    embedding: {
      url: url(models.embed),
      model: servedModel(models.embed),
      protocol: "contract",
      dims: models.embed.dims,
      authSecret: null,
    },
    rerank: {
      url: url(models.rerank),
      model: servedModel(models.rerank),
      protocol: "contract",
      dims: null,
      authSecret: null,
    },
  };
}

export const engineUrls = (ports: Pick<Ports, "opensearch" | "elasticsearch">) => ({
  opensearch: `http://127.0.0.1:${ports.opensearch}`,
  elasticsearch: `http://127.0.0.1:${ports.elasticsearch}`,
});

/** scripts/engines.sh's environment: the stack's own ports and run folder, data kept across starts. */
export function enginesEnv(ports: Ports, layout: WorkLayout): Record<string, string> {
  return {
    OS_PORT: String(ports.opensearch),
    OS_TRANSPORT_PORT: String(ports.opensearchTransport),
    ES_PORT: String(ports.elasticsearch),
    ES_TRANSPORT_PORT: String(ports.elasticsearchTransport),
    ENGINES_RUN: layout.engines,
    ENGINES_KEEP_DATA: "1",
  };
}

/** The backbone CLI's environment (k8s/backbone/src/cli.ts), as the cluster's Job and CronJob get it. */
export function backboneEnv(o: { alias: string; ports: Ports; layout: WorkLayout }): Record<string, string> {
  const urls = engineUrls(o.ports);
  return {
    PROFILE_FILE: o.layout.profileFile,
    ENDPOINTS_FILE: o.layout.endpointsFile,
    INDEX_ALIAS: o.alias,
    ELASTICSEARCH_URL: urls.elasticsearch,
    OPENSEARCH_URL: urls.opensearch,
    // The bucket stand-in: raw/ in it is a link to the documents folder, so object keys are
    // raw/<path in the folder> and docIds the paths models/ prepare derives from the folder.
    SOURCE_FOLDER: o.layout.source,
    RAW_PREFIX: "raw/",
    // One user on one machine: a document without a <key>.acl.json sidecar is public here (the
    // cluster's default is deny). A sidecar still restricts its document.
    DEFAULT_ACCESS: "public",
    EMBED_BATCH: "32",
    EMBED_CONCURRENCY: "2",
  };
}

/**
 * The orchestrator's environment (names from ORCHESTRATOR_ENV). AIRec is off, the event log is a
 * local folder (the chat log too), DashScope is passed through only when the user set DASHSCOPE_API_KEY (without it
 * the orchestrator answers extractively). Timeouts are a CPU's, not a GPU's.
 */
export function orchestratorEnv(o: {
  alias: string;
  ports: Ports;
  layout: WorkLayout;
  user: Readonly<Record<string, string | undefined>>;
  /** RERANK_ENABLED: false leaves the fused order (the reranker is still served and set up). */
  rerank: boolean;
}): Record<string, string> {
  const urls = engineUrls(o.ports);
  const env: Record<string, string> = {
    PORT: String(o.ports.orchestrator),
    HOST: "127.0.0.1",
    LOG_LEVEL: "info",
    PROFILE_FILE: o.layout.profileFile,
    ENDPOINTS_FILE: o.layout.endpointsFile,
    INDEX_ALIAS: o.alias,
    RAW_PREFIX: "raw/",
    ELASTICSEARCH_URL: urls.elasticsearch,
    OPENSEARCH_URL: urls.opensearch,
    AIREC_ENABLED: "false",
    EVENT_LOG_FOLDER: o.layout.bucket,
    // Chat turns go beside the events (layout.chatLog), the training data of prepare-chat; the user
    // may switch them off as in the cluster (CHAT_LOG_ENABLED=false npm start).
    CHAT_LOG_ENABLED: o.user.CHAT_LOG_ENABLED === "false" ? "false" : "true",
    CHAT_LOG_PREFIX: "logs/chat/",
    API_KEYS_FILE: o.layout.apiKeysFile,
    REQUEST_BUDGET_MS: "15000",
    EMBED_TIMEOUT_MS: "5000",
    ENGINE_TIMEOUT_MS: "5000",
    RERANK_ENABLED: String(o.rerank),
    RERANK_TIMEOUT_MS: "8000",
  };
  if (o.user.DASHSCOPE_API_KEY) {
    env.DASHSCOPE_API_KEY = o.user.DASHSCOPE_API_KEY;
    for (const name of ["DASHSCOPE_BASE_URL", "CHAT_MODEL"] as const) {
      const value = o.user[name];
      if (value) env[name] = value;
    }
  }
  return env;
}

/** `.local/stack.json`, read by `npm run loop` and the end-to-end test (contract in the shared brief). */
export function stackDescription(o: {
  ports: Ports;
  layout: WorkLayout;
  torchserve: { inference: string; management: string };
  models: LocalModels;
  alias: string;
  docs: string;
}) {
  return {
    orchestrator: { url: `http://127.0.0.1:${o.ports.orchestrator}`, apiKeyFile: o.layout.apiKeyFile },
    engines: engineUrls(o.ports),
    torchserve: { ...o.torchserve, modelStore: o.layout.modelStore },
    models: {
      embed: { name: o.models.embed.name, version: o.models.embed.version, dims: o.models.embed.dims },
      rerank: { name: o.models.rerank.name, version: o.models.rerank.version },
    },
    backbone: {
      alias: o.alias,
      profileFile: o.layout.profileFile,
      endpointsFile: o.layout.endpointsFile,
      docs: o.docs,
    },
    eventLog: o.layout.eventLog,
    work: o.layout.work,
  };
}

export type StackDescription = ReturnType<typeof stackDescription>;
