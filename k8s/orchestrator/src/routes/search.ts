import { randomUUID } from "node:crypto";
import type { FastifyPluginAsync } from "fastify";
import { recordExposures, retrieveOr503, searchResult } from "../answers";
import { Deadline } from "../deadline";
import type { ZodTypeProvider } from "../plugins/schemas";
import { searchBody } from "../schemas/requests";
import { searchResponse } from "../schemas/responses";

/** POST /v1/search: fused and reranked chunks; the results are exposures of the request's user. */
const search: FastifyPluginAsync = async (fastify) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const { services, settings } = app;
  app.post("/v1/search", { schema: { body: searchBody, response: { 200: searchResponse } } }, async (request) => {
    const body = request.body;
    const queryId = randomUUID();
    const result = await retrieveOr503(
      services.retriever,
      body.query,
      {
        principal: request.principal,
        ...(body.filters ? { filters: body.filters } : {}),
        ...(body.topK ? { topK: body.topK } : {}),
      },
      new Deadline(settings.budgetMs),
    );
    recordExposures(services.telemetry, request.principal, body.userId, queryId, body.query, "search", result.hits);
    return {
      queryId,
      results: result.hits.map((h) => searchResult(h, settings.docUriPrefix)),
      degraded: result.degraded,
      rerank: result.rerank,
      warnings: result.warnings,
    };
  });
};

export default search;
