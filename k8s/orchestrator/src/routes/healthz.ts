import type { FastifyPluginAsync } from "fastify";
import type { ZodTypeProvider } from "../plugins/schemas";
import { healthResponse } from "../schemas/responses";

/** GET /healthz: the process answers (liveness). */
const healthz: FastifyPluginAsync = async (fastify) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  app.get("/healthz", { schema: { response: { 200: healthResponse } } }, async () => ({ status: "ok" as const }));
};

export default healthz;
