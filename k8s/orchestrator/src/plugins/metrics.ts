import type { FastifyPluginAsync } from "fastify";
import fp from "fastify-plugin";
import type { Metrics } from "../metrics";

/**
 * The service's Prometheus registry on the instance (`app.metrics`, for routes and the /metrics route)
 * and the duration of every answered request by route, method and status.
 */

declare module "fastify" {
  interface FastifyInstance {
    metrics: Metrics;
  }
}

export interface MetricsOptions {
  readonly metrics: Metrics;
}

const metrics: FastifyPluginAsync<MetricsOptions> = async (app, options) => {
  app.decorate("metrics", options.metrics);
  app.addHook("onResponse", async (request, reply) => {
    options.metrics.httpDuration.observe(
      { route: request.routeOptions.url ?? "unmatched", method: request.method, status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });
};

export default fp(metrics, { name: "metrics", fastify: "5.x" });
