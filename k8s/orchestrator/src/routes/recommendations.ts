import type { FastifyPluginAsync } from "fastify";
import { recordExposures } from "../answers";
import { Deadline } from "../deadline";
import type { ZodTypeProvider } from "../plugins/schemas";
import { recommendationsQuery } from "../schemas/requests";
import { recommendationsResponse } from "../schemas/responses";

/** GET /v1/recommendations: AIRec's items or the backbone's fallbacks; the items are exposures of the user. */
const recommendations: FastifyPluginAsync = async (fastify) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const { services, settings } = app;
  app.get(
    "/v1/recommendations",
    { schema: { querystring: recommendationsQuery, response: { 200: recommendationsResponse } } },
    async (request) => {
      const query = request.query;
      const result = await services.recommender.recommend(
        { userId: query.userId, principal: request.principal, count: query.count, sceneId: query.scene },
        new Deadline(settings.budgetMs),
      );
      recordExposures(
        services.telemetry,
        request.principal,
        query.userId,
        result.requestId,
        undefined,
        "recs",
        result.items,
      );
      return { requestId: result.requestId, items: result.items, degraded: result.degraded, warnings: result.warnings };
    },
  );
};

export default recommendations;
