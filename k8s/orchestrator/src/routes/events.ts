import type { FastifyPluginAsync } from "fastify";
import type { ZodTypeProvider } from "../plugins/schemas";
import { ProblemError } from "../problem";
import { eventsBody } from "../schemas/requests";
import { eventsResponse } from "../schemas/responses";

/**
 * POST /v1/events: the caller's exposures, clicks, opened citations and feedback. An engagement
 * without its exposure is refused by name; 202 when any event is accepted, 422 when none is.
 */
const events: FastifyPluginAsync = async (fastify) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const { telemetry } = app.services;
  app.post(
    "/v1/events",
    { schema: { body: eventsBody, response: { 202: eventsResponse } } },
    async (request, reply) => {
      const body = request.body;
      const now = new Date().toISOString();
      const refused: { field: string; message: string }[] = [];
      body.events.forEach((e, i) => {
        const result = telemetry.record({ ...e, ts: e.ts ?? now, principalId: request.principal.id });
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
    },
  );
};

export default events;
