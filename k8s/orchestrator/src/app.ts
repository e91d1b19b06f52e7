import { hostname } from "node:os";
import { elasticsearchClient, openSearchClient } from "@search-backbone/engines";
import { engagementIndex } from "@search-backbone/relevance";
import type { DestinationStream } from "pino";
import { AirecClient } from "./airec";
import { ChatLog, chatLogSink } from "./chat-log";
import type { Config } from "./config";
import { cloudCredential } from "./credentials";
import { SharedEngagement } from "./engagement";
import { FolderStore, type ObjectStore, OssStore } from "./event-log";
import { chatGenerator, type Generator } from "./generation";
import { modelTransport, sdkFetch } from "./http";
import { JwtVerifier } from "./identity";
import { IndexResolver } from "./indices";
import { admission, createLimiters } from "./limits";
import { createMetrics } from "./metrics";
import { Recommender } from "./recommendations";
import { watchModelFiles } from "./reload";
import { message, Retriever } from "./retrieval";
import { buildServer } from "./server";
import { airecSink, eventLogSink, SinkQueue, Telemetry } from "./telemetry";

export interface AppOverrides {
  readonly logStream?: DestinationStream;
  readonly generator?: Generator;
  readonly eventStore?: ObjectStore;
  readonly telemetryBackoff?: { startingDelay: number; maxDelay: number; attempts: number };
}

/** What the chat log may hold in memory while the store is slow or down (on top of its row capacity). */
export const CHAT_LOG_BUFFER_BYTES = 32 * 1024 * 1024;

/** Wires the service from a validated configuration. */
export async function createApp(config: Config, overrides: AppOverrides = {}) {
  const metrics = createMetrics();
  const es = elasticsearchClient({
    url: config.ELASTICSEARCH_URL,
    lean: true,
    idleTimeoutMs: config.UPSTREAM_IDLE_TIMEOUT_MS,
    ...(config.ELASTICSEARCH_USERNAME
      ? { username: config.ELASTICSEARCH_USERNAME, password: config.ELASTICSEARCH_PASSWORD ?? "" }
      : {}),
  });
  const os = openSearchClient({
    url: config.OPENSEARCH_URL,
    lean: true,
    idleTimeoutMs: config.UPSTREAM_IDLE_TIMEOUT_MS,
    ...(config.OPENSEARCH_USERNAME
      ? { username: config.OPENSEARCH_USERNAME, password: config.OPENSEARCH_PASSWORD ?? "" }
      : {}),
    ...(config.OPENSEARCH_CA_FILE ? { caFile: config.OPENSEARCH_CA_FILE } : {}),
  });
  // One credential for AIRec and OSS, made on first use (RRSA in ACK, an AccessKey locally).
  let shared: ReturnType<typeof cloudCredential> | undefined;
  const credential = () => {
    shared ??= cloudCredential(config);
    return shared;
  };
  const airec = config.AIREC_ENABLED
    ? new AirecClient({
        endpoint: config.AIREC_ENDPOINT as string,
        protocol: config.AIREC_PROTOCOL,
        instanceId: config.AIREC_INSTANCE_ID as string,
        credential: credential(),
        timeoutMs: config.AIREC_TIMEOUT_MS,
      })
    : undefined;
  const eventStore =
    overrides.eventStore ??
    (config.EVENT_LOG_FOLDER
      ? new FolderStore(config.EVENT_LOG_FOLDER)
      : new OssStore(
          { bucket: config.OSS_BUCKET as string, region: config.OSS_REGION as string, endpoint: config.OSS_ENDPOINT },
          credential(),
        ));

  let log: { warn: (obj: object, msg: string) => void } = { warn: () => {} };
  const queueOptions = {
    capacity: config.TELEMETRY_BUFFER_EVENTS,
    flushMs: config.TELEMETRY_FLUSH_MS,
    metrics,
    onError: (sink: string, error: unknown) =>
      log.warn({ sink, err: { message: (error as Error)?.message?.slice(0, 300) } }, "telemetry send failed; retrying"),
    ...(overrides.telemetryBackoff ? { backoff: overrides.telemetryBackoff } : {}),
  };
  const instance = `${hostname()}-${process.pid}-${Date.now().toString(36)}`;
  const queues: SinkQueue<any>[] = [
    new SinkQueue(
      eventLogSink(eventStore, {
        prefix: config.EVENT_LOG_PREFIX,
        noQueryPrefix: config.EVENT_LOG_RECS_PREFIX,
        instance,
      }),
      queueOptions,
    ),
  ];
  // Engagement shared by the replicas: the backbone's engagement index, written from the telemetry buffer.
  const engagement = new SharedEngagement({
    es,
    index: engagementIndex(config.INDEX_ALIAS),
    window: config.ENGAGEMENT_POPULAR_WINDOW,
    retentionDays: config.ENGAGEMENT_RETENTION_DAYS,
    timeoutMs: config.ENGINE_TIMEOUT_MS,
    metrics,
  });
  queues.push(new SinkQueue(engagement.sink(instance), queueOptions));
  if (airec)
    queues.push(
      new SinkQueue(
        airecSink(airec, { itemType: config.AIREC_ITEM_TYPE, sceneId: config.AIREC_SCENE_ID as string }),
        queueOptions,
      ),
    );
  const telemetry = new Telemetry(queues);
  // Turns are kilobytes where events are a hundred bytes: the chat log's buffer is bounded in bytes too.
  const chatLog = config.CHAT_LOG_ENABLED
    ? new ChatLog(chatLogSink(eventStore, { prefix: config.CHAT_LOG_PREFIX, instance }), {
        ...queueOptions,
        capacityBytes: CHAT_LOG_BUFFER_BYTES,
      })
    : undefined;

  const models = modelTransport(config.UPSTREAM_IDLE_TIMEOUT_MS);
  const limiters = createLimiters(
    {
      engineConcurrency: config.ENGINE_MAX_IN_FLIGHT,
      modelConcurrency: config.MODEL_MAX_IN_FLIGHT,
      queue: config.DEPENDENCY_QUEUE_LENGTH,
    },
    (dependency, reason) => metrics.refusals.inc({ dependency, reason }),
  );
  metrics.limiters.push(...Object.values(limiters));
  const indices = new IndexResolver({
    es,
    os,
    alias: config.INDEX_ALIAS,
    ttlMs: config.INDEX_PIN_TTL_MS,
    timeoutMs: config.ENGINE_TIMEOUT_MS,
  });
  const retriever = new Retriever({
    es,
    os,
    indices,
    profile: config.profile,
    endpoints: config.endpoints,
    modelApiKey: config.MODEL_API_KEY,
    modelTransport: models.transport,
    rawPrefix: config.RAW_PREFIX,
    timeouts: { embed: config.EMBED_TIMEOUT_MS, engine: config.ENGINE_TIMEOUT_MS, rerank: config.RERANK_TIMEOUT_MS },
    rerank: config.RERANK_ENABLED,
    metrics,
    limiters,
  });
  const recommender = new Recommender({
    es,
    os,
    indices,
    profile: config.profile,
    rawPrefix: config.RAW_PREFIX,
    docUriPrefix: config.DOC_URI_PREFIX,
    airec: airec
      ? { client: airec, sceneId: config.AIREC_SCENE_ID as string, itemType: config.AIREC_ITEM_TYPE }
      : undefined,
    engagement,
    timeouts: { engine: config.ENGINE_TIMEOUT_MS, airec: config.AIREC_TIMEOUT_MS },
    metrics,
  });
  const chatFetch = sdkFetch(config.UPSTREAM_IDLE_TIMEOUT_MS);
  const generator = overrides.generator ?? chatGenerator(config, chatFetch.fetch);

  const server = await buildServer({
    retriever,
    recommender,
    generator,
    telemetry,
    chatLog,
    metrics,
    es,
    os,
    settings: {
      alias: config.INDEX_ALIAS,
      docUriPrefix: config.DOC_URI_PREFIX,
      apiKeys: config.apiKeys,
      jwt: config.JWT_JWKS_URL
        ? new JwtVerifier({
            issuer: config.JWT_ISSUER as string,
            audience: config.JWT_AUDIENCE as string,
            jwksUrl: config.JWT_JWKS_URL,
            userClaim: config.JWT_USER_CLAIM,
            groupsClaim: config.JWT_GROUPS_CLAIM,
          })
        : undefined,
      ratePerMinute: config.RATE_LIMIT_PER_MINUTE,
      bodyLimit: config.BODY_LIMIT_BYTES,
      budgetMs: config.REQUEST_BUDGET_MS,
      engineTimeoutMs: config.ENGINE_TIMEOUT_MS,
      logLevel: config.LOG_LEVEL,
      chatRecommendations: 5,
    },
    ...(overrides.logStream ? { logStream: overrides.logStream } : {}),
    admission: admission(limiters, ["/v1/search", "/v1/chat"]),
  });
  log = server.log;
  // A retrained model takes over without a restart: see reload.ts.
  const showModels = (endpoints: Config["endpoints"]) => {
    metrics.modelInfo.reset();
    metrics.modelInfo.set({ role: "embedding", model: endpoints.embedding.model }, 1);
    metrics.modelInfo.set({ role: "rerank", model: endpoints.rerank.model }, 1);
  };
  showModels(config.endpoints);
  const modelFiles = watchModelFiles({
    profileFile: config.PROFILE_FILE,
    endpointsFile: config.ENDPOINTS_FILE,
    current: { profile: config.profile, endpoints: config.endpoints },
    apply: (next) => {
      retriever.reconfigure(next);
      recommender.reconfigure(next);
      showModels(next.endpoints);
    },
    log: server.log,
  });

  // Retention: any replica may prune, the delete is idempotent; the first run is an hour after start.
  const pruning = setInterval(() => {
    engagement
      .prune()
      .then((deleted) => server.log.info({ deleted }, "expired engagements deleted"))
      .catch((error) => log.warn({ err: { message: message(error) } }, "engagement pruning failed; next hour again"));
  }, 3_600_000);
  pruning.unref();

  /** Graceful stop: no new connections, in-flight requests finish, then telemetry drains within the grace period. */
  const shutdown = async () => {
    const started = performance.now();
    modelFiles.close();
    clearInterval(pruning);
    await server.close();
    const grace = Math.max(0, config.SHUTDOWN_GRACE_MS - (performance.now() - started));
    const [events, turns] = await Promise.all([telemetry.close(grace), chatLog?.close(grace) ?? 0]);
    const left = events + turns;
    server.log.info({ undelivered: left }, "telemetry flushed");
    await Promise.allSettled([es.close(), os.close(), models.close(), chatFetch.close()]);
  };
  return { server, telemetry, chatLog, metrics, indices, engagement, shutdown };
}
