import type { FastifyPluginAsync } from "fastify";
import type { z } from "zod";
import type { ZodTypeProvider } from "../plugins/schemas";
import { message } from "../retrieval";
import { readinessResponse } from "../schemas/responses";

const CACHE_MS = 5000;

/**
 * GET /readyz: ready while at least one engine has the alias. The answer is cached for 5 s, so
 * probes from every kubelet cost the engines one existsAlias each per period.
 */
const readyz: FastifyPluginAsync = async (fastify) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const { services, settings } = app;
  let readiness: { at: number; body: z.input<typeof readinessResponse> } | undefined;
  app.get(
    "/readyz",
    { schema: { response: { 200: readinessResponse, 503: readinessResponse } } },
    async (_request, reply) => {
      if (!readiness || Date.now() - readiness.at > CACHE_MS) {
        const opts = { requestTimeout: settings.engineTimeoutMs, maxRetries: 0 };
        // `HEAD /<alias>/_alias/<alias>`: asks about the alias's own indices only, which is all the
        // reader engine user may see (an index-less lookup spans every index of the cluster).
        const lookup = { name: settings.alias, index: settings.alias };
        const [es, os] = await Promise.allSettled([
          services.es.indices.existsAlias(lookup, opts),
          services.os.indices.existsAlias(lookup, opts).then((r) => r.body),
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
    },
  );
};

export default readyz;
