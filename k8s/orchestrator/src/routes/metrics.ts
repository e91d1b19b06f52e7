import type { FastifyPluginAsync } from "fastify";

/** GET /metrics: the Prometheus exposition of the service's registry (open, like the probes). */
const metrics: FastifyPluginAsync = async (app) => {
  app.get("/metrics", async (_request, reply) =>
    reply.type(app.metrics.registry.contentType).send(await app.metrics.registry.metrics()),
  );
};

export default metrics;
