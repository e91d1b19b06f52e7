import { randomUUID } from "node:crypto";
import Fastify, { type FastifyInstance, type FastifyRequest, LogController } from "fastify";
import type { DestinationStream } from "pino";
import type { Metrics } from "./metrics";
import auth from "./plugins/auth";
import metricsPlugin from "./plugins/metrics";
import problems from "./plugins/problems";
import rateLimit from "./plugins/rate-limit";
import schemas from "./plugins/schemas";
import services, { type Services, type Settings } from "./plugins/services";
import web from "./plugins/web";
import chat from "./routes/chat";
import events from "./routes/events";
import healthz from "./routes/healthz";
import metricsRoute from "./routes/metrics";
import readyz from "./routes/readyz";
import recommendations from "./routes/recommendations";
import search from "./routes/search";

export interface ServerDeps extends Services {
  readonly metrics: Metrics;
  readonly settings: Settings;
  readonly logStream?: DestinationStream;
  /** Refuses a request at arrival while a dependency it needs is at capacity (src/limits.ts). */
  readonly admission?: (request: FastifyRequest) => Promise<void>;
}

/** One access-log line per request ("request completed", with the status and time), not Fastify's two. */
class AccessLog extends LogController {
  override incomingRequest() {}
}

/**
 * The HTTP service: Fastify with one plugin per concern (src/plugins: problems, schemas, auth, rate
 * limit, metrics, services) and one plugin per route (src/routes). app.ts wires the dependencies;
 * tests build it with stand-ins and call it through `inject`.
 */
export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const { metrics, settings, logStream, admission, ...rest } = deps;
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
      ...(logStream ? { stream: logStream } : {}),
    } as any,
    genReqId: () => randomUUID(),
    requestTimeout: 120_000,
    logController: new AccessLog(),
  });

  await app.register(problems, { bodyLimit: settings.bodyLimit });
  await app.register(schemas);
  await app.register(services, { services: rest, settings });
  await app.register(metricsPlugin, { metrics });
  // Before auth, so a refusal at capacity costs no key hashing or body parsing.
  if (admission) app.addHook("onRequest", admission);
  await app.register(auth, { keys: settings.apiKeys, jwt: settings.jwt });
  await app.register(rateLimit, { ratePerMinute: settings.ratePerMinute });

  for (const route of [search, chat, recommendations, events, healthz, readyz, metricsRoute]) await app.register(route);
  // The page at / (no key needed to load it; every API call it makes sends one).
  await app.register(web);
  return app;
}
