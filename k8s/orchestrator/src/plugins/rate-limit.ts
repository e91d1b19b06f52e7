import rateLimit from "@fastify/rate-limit";
import type { FastifyPluginAsync } from "fastify";
import fp from "fastify-plugin";

/**
 * Requests per minute per API key (the key's own `ratePerMinute`, else the service's), counted before
 * the input is validated, so malformed requests spend the budget too; only `/v1/*` is limited. The
 * 429 becomes a problem in the problems plugin; Retry-After comes from @fastify/rate-limit.
 */
export interface RateLimitOptions {
  readonly ratePerMinute: number;
}

const limits: FastifyPluginAsync<RateLimitOptions> = async (app, options) => {
  await app.register(rateLimit, {
    global: true,
    hook: "preValidation",
    timeWindow: 60_000,
    allowList: (request) => !request.url.startsWith("/v1/"),
    // JWT callers have no key: each user counts on its own.
    keyGenerator: (request) =>
      request.apiKey ? request.apiKey.id : request.principal ? `jwt:${request.principal.id}` : request.ip,
    max: (request) => request.apiKey?.ratePerMinute ?? options.ratePerMinute,
    errorResponseBuilder: (_request, context) => ({
      statusCode: 429,
      message: `rate limit of ${context.max} requests per minute for this API key exceeded; retry in ${context.after}`,
    }),
  });
};

export default fp(limits, { name: "rate-limit", fastify: "5.x", dependencies: ["auth"] });
