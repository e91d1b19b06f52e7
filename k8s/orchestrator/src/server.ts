import { randomUUID } from "node:crypto";
import rateLimit from "@fastify/rate-limit";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, LogController } from "fastify";
import type { DestinationStream } from "pino";
import { registerAuth } from "./auth";
import type { ElasticsearchClient, OpenSearchClient } from "./backbone";
import type { ApiKeyEntry } from "./config";
import { Deadline } from "./deadline";
import { buildPrompt, type ChatMessage, condenseQuery, type Generator } from "./generation";
import type { Metrics } from "./metrics";
import { ProblemError, parseOr400, sendProblem } from "./problem";
import type { Recommender, RecResult } from "./recommendations";
import { EnginesUnavailableError, message, type RetrievedHit, type Retriever } from "./retrieval";
import { chatBody, eventsBody, recommendationsQuery, searchBody } from "./schemas";
import type { Telemetry } from "./telemetry";

export interface ServerDeps {
  readonly retriever: Retriever;
  readonly recommender: Recommender;
  readonly generator: Generator;
  readonly telemetry: Telemetry;
  readonly metrics: Metrics;
  readonly es: ElasticsearchClient;
  readonly os: OpenSearchClient;
  readonly settings: {
    readonly alias: string;
    readonly docUriPrefix: string;
    readonly apiKeys: readonly ApiKeyEntry[];
    readonly ratePerMinute: number;
    readonly bodyLimit: number;
    readonly budgetMs: number;
    readonly engineTimeoutMs: number;
    readonly logLevel: string;
    readonly chatRecommendations: number;
  };
  readonly logStream?: DestinationStream;
  /** Refuses a request at arrival while a dependency it needs is at capacity (src/limits.ts). */
  readonly admission?: (request: FastifyRequest) => Promise<void>;
}

/** One access-log line per request ("request completed", with the status and time), not Fastify's two. */
class AccessLog extends LogController {
  override incomingRequest() {}
}

export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const { metrics, telemetry, settings } = deps;
  const app = Fastify({
    bodyLimit: settings.bodyLimit,
    logger: {
      level: settings.logLevel,
      // Fastify's request serializer logs no headers; these paths are redacted should any log call add them.
      redact: [
        "req.headers.authorization",
        'req.headers["x-api-key"]',
        "headers.authorization",
        'headers["x-api-key"]',
      ],
      ...(deps.logStream ? { stream: deps.logStream } : {}),
    } as any,
    genReqId: () => randomUUID(),
    requestTimeout: 120_000,
    logController: new AccessLog(),
  });

  app.setErrorHandler((error: any, request, reply) => {
    if (error instanceof ProblemError) {
      const retryAfter = (error as { retryAfterSeconds?: unknown }).retryAfterSeconds;
      if (typeof retryAfter === "number") reply.header("retry-after", String(retryAfter));
      return sendProblem(reply, error.problem);
    }
    if (error.code === "FST_ERR_CTP_BODY_TOO_LARGE")
      return sendProblem(reply, {
        title: "Payload too large",
        status: 413,
        detail: `the body exceeds ${settings.bodyLimit} bytes`,
        errors: [{ field: "body", message: `at most ${settings.bodyLimit} bytes` }],
      });
    if (error.code === "FST_ERR_CTP_INVALID_MEDIA_TYPE")
      return sendProblem(reply, {
        title: "Unsupported media type",
        status: 415,
        detail: "send application/json",
        errors: [{ field: "header.content-type", message: "expected application/json" }],
      });
    if (error.statusCode === 429)
      return sendProblem(reply, { title: "Too many requests", status: 429, detail: error.message });
    if (error.statusCode && error.statusCode < 500)
      return sendProblem(reply, {
        title: "Invalid request",
        status: error.statusCode,
        detail: error.message,
        errors: [{ field: "body", message: error.message }],
      });
    request.log.error({ err: { message: message(error), code: error.code } }, "unhandled error");
    return sendProblem(reply, {
      title: "Internal error",
      status: 500,
      detail: "the request failed; see the service log",
    });
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, {
      title: "Not found",
      status: 404,
      detail: `no route ${request.method} ${request.url.split("?")[0]}`,
    }),
  );

  app.addHook("onResponse", async (request, reply) => {
    metrics.httpDuration.observe(
      { route: request.routeOptions.url ?? "unmatched", method: request.method, status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  if (deps.admission) app.addHook("onRequest", deps.admission);
  registerAuth(app, settings.apiKeys);
  await app.register(rateLimit, {
    global: true,
    hook: "preHandler",
    timeWindow: 60_000,
    allowList: (request) => !request.url.startsWith("/v1/"),
    keyGenerator: (request) => request.apiKey?.id ?? request.ip,
    max: (request) => request.apiKey?.ratePerMinute ?? settings.ratePerMinute,
    errorResponseBuilder: (_request, context) => ({
      statusCode: 429,
      message: `rate limit of ${context.max} requests per minute for this API key exceeded; retry in ${context.after}`,
    }),
  });

  const exposeAll = (
    userId: string | undefined,
    queryId: string,
    query: string | undefined,
    channel: "search" | "chat" | "recs",
    docs: readonly { docId: string; traceId?: string }[],
  ) => {
    if (!userId) return;
    const ts = new Date().toISOString();
    docs.forEach((d, position) => {
      telemetry.record({
        type: "expose",
        ts,
        userId,
        queryId,
        query,
        docId: d.docId,
        position,
        channel,
        traceId: d.traceId,
      });
    });
  };

  const retrieve = async (text: string, options: Parameters<Retriever["retrieve"]>[2], deadline: Deadline) => {
    try {
      return await deps.retriever.retrieve(text, deadline, options);
    } catch (error) {
      if (error instanceof EnginesUnavailableError)
        throw new ProblemError({
          title: "Search unavailable",
          status: 503,
          detail: error.message,
          warnings: error.warnings,
        });
      throw error;
    }
  };

  const citationsOf = (hits: readonly RetrievedHit[]) =>
    hits.map((h, i) => ({
      n: i + 1,
      id: h.id,
      docId: h.docId,
      title: h.title,
      uri: `${settings.docUriPrefix}${h.sourceKey}`,
      snippet: h.content.slice(0, 300),
    }));

  app.post("/v1/search", async (request) => {
    const body = parseOr400(searchBody, request.body, "body");
    const queryId = randomUUID();
    const result = await retrieve(
      body.query,
      { ...(body.filters ? { filters: body.filters } : {}), ...(body.topK ? { topK: body.topK } : {}) },
      new Deadline(settings.budgetMs),
    );
    exposeAll(body.userId, queryId, body.query, "search", result.hits);
    return {
      queryId,
      results: result.hits.map((h) => ({
        id: h.id,
        docId: h.docId,
        title: h.title,
        uri: `${settings.docUriPrefix}${h.sourceKey}`,
        snippet: h.content.slice(0, 300),
        score: h.score,
        engines: h.engines,
        scores: h.scores,
      })),
      degraded: result.degraded,
      rerank: result.rerank,
      warnings: result.warnings,
    };
  });

  app.get("/v1/recommendations", async (request) => {
    const query = parseOr400(recommendationsQuery, request.query, "query");
    const result = await deps.recommender.recommend(
      { userId: query.userId, count: query.count, sceneId: query.scene },
      new Deadline(settings.budgetMs),
    );
    exposeAll(query.userId, result.requestId, undefined, "recs", result.items);
    return { requestId: result.requestId, items: result.items, degraded: result.degraded, warnings: result.warnings };
  });

  app.post("/v1/events", async (request, reply) => {
    const body = parseOr400(eventsBody, request.body, "body");
    const now = new Date().toISOString();
    const refused: { field: string; message: string }[] = [];
    body.events.forEach((e, i) => {
      const result = telemetry.record({ ...e, ts: e.ts ?? now });
      if (!result.accepted) refused.push({ field: `body.events.${i}.docId`, message: result.reason });
    });
    if (refused.length === body.events.length)
      throw new ProblemError({
        title: "Events refused",
        status: 422,
        detail: refused.map((r) => r.message).join("; "),
        errors: refused,
      });
    return reply.code(202).send({ accepted: body.events.length - refused.length, refused });
  });

  app.post("/v1/chat", async (request, reply) => {
    const body = parseOr400(chatBody, request.body, "body");
    const deadline = new Deadline(settings.budgetMs);
    const queryId = randomUUID();
    const retrievalQuery = condenseQuery(body.messages);
    const retrieval = await retrieve(retrievalQuery, body.topK ? { topK: body.topK } : {}, deadline);
    const citations = citationsOf(retrieval.hits);
    exposeAll(body.userId, queryId, retrievalQuery, "chat", citations);
    const recsPromise: Promise<RecResult> = deps.recommender
      .recommend(
        {
          userId: body.userId ?? "anonymous",
          count: settings.chatRecommendations,
          contextVector: retrieval.vector,
          relatedDocIds: [...new Set(citations.map((c) => c.docId))],
        },
        new Deadline(settings.budgetMs),
      )
      .then((recs) => {
        exposeAll(body.userId, queryId, retrievalQuery, "recs", recs.items);
        return recs;
      });
    const prompt = buildPrompt(body.messages as ChatMessage[], retrieval.hits);
    const head = {
      queryId,
      retrievalQuery,
      citations,
      degraded: retrieval.degraded,
      rerank: retrieval.rerank,
      warnings: retrieval.warnings,
    };
    if (body.stream) return streamChat(request, reply, prompt, head, recsPromise);

    const abort = new AbortController();
    let answer = "";
    try {
      for await (const token of deps.generator.stream(prompt, abort.signal)) answer += token;
    } catch (error) {
      await recsPromise.catch(() => undefined);
      throw new ProblemError({
        title: "Generation failed",
        status: 502,
        detail: `the answer could not be generated: ${message(error)}`,
        ...head,
        partialAnswer: answer,
      });
    }
    const recs = await recsPromise;
    return {
      ...head,
      answer,
      recommendations: recs.items,
      degraded: head.degraded || recs.degraded,
      warnings: [...head.warnings, ...recs.warnings],
    };
  });

  /** SSE in the documented order: citations, tokens, recommendations, done (an error event before them when generation fails). */
  async function streamChat(
    request: FastifyRequest,
    reply: FastifyReply,
    prompt: ChatMessage[],
    head: Record<string, any>,
    recsPromise: Promise<RecResult>,
  ) {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      "Content-Type": "text/event-stream; charset=utf-8",
      "Cache-Control": "no-cache, no-transform",
      Connection: "keep-alive",
      "X-Accel-Buffering": "no",
    });
    const send = (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    const abort = new AbortController();
    const onClose = () => abort.abort();
    res.on("close", onClose);
    metrics.openStreams.inc();
    let finish = "stop";
    try {
      send("citations", head);
      try {
        for await (const token of deps.generator.stream(prompt, abort.signal)) send("token", { text: token });
      } catch (error) {
        finish = "error";
        if (!abort.signal.aborted) {
          request.log.warn({ err: { message: message(error) } }, "generation failed mid-stream");
          send("error", {
            type: "about:blank",
            title: "Generation failed",
            status: 502,
            detail: `the answer could not be completed: ${message(error)}`,
            citations: head.citations,
          });
        }
      }
      if (!abort.signal.aborted) {
        const recs = await recsPromise.catch(
          (error) =>
            ({
              items: [],
              requestId: "",
              degraded: true,
              warnings: [{ dependency: "recommendations", message: message(error) }],
            }) as RecResult,
        );
        send("recommendations", { items: recs.items, degraded: recs.degraded, warnings: recs.warnings });
        send("done", { finishReason: finish });
      }
    } finally {
      metrics.openStreams.dec();
      res.off("close", onClose);
      res.end();
    }
  }

  app.get("/healthz", async () => ({ status: "ok" }));

  let readiness: { at: number; body: { status: string; checks: Record<string, string> } } | undefined;
  app.get("/readyz", async (_request, reply) => {
    if (!readiness || Date.now() - readiness.at > 5000) {
      const opts = { requestTimeout: settings.engineTimeoutMs, maxRetries: 0 };
      const [es, os] = await Promise.allSettled([
        deps.es.indices.existsAlias({ name: settings.alias }, opts),
        deps.os.indices.existsAlias({ name: settings.alias }, opts).then((r) => r.body),
      ]);
      const check = (r: PromiseSettledResult<boolean>) =>
        r.status === "fulfilled"
          ? r.value
            ? "ok"
            : `alias ${settings.alias} missing`
          : `unreachable: ${message(r.reason)}`;
      const checks = { elasticsearch: check(es), opensearch: check(os) };
      const ok = Object.values(checks).some((c) => c === "ok");
      readiness = { at: Date.now(), body: { status: ok ? "ready" : "unavailable", checks } };
    }
    return reply.code(readiness.body.status === "ready" ? 200 : 503).send(readiness.body);
  });

  app.get("/metrics", async (_request, reply) =>
    reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );

  return app;
}
