import { z } from "zod";

/**
 * What each route answers with (the API table in README.md). Only these fields are serialised, in
 * this order. Problems (4xx/5xx) are not described here: the problems plugin writes them.
 */

const list = <T extends z.ZodType>(item: T) => z.array(item).readonly();
const text = z.string();

const warnings = list(z.strictObject({ dependency: text, message: text }));
const engine = z.enum(["elasticsearch", "opensearch"]);

export const searchResponse = z.strictObject({
  queryId: text,
  results: list(
    z.strictObject({
      id: text,
      docId: text,
      title: text,
      uri: text,
      snippet: text,
      score: z.number(),
      engines: list(engine),
      scores: z.strictObject({
        fused: z.number(),
        rerank: z.number().optional(),
        elasticsearch: z.number().optional(),
        opensearch: z.number().optional(),
      }),
    }),
  ),
  degraded: z.boolean(),
  rerank: z.enum(["applied", "skipped"]),
  warnings,
});

export const recItem = z.strictObject({
  docId: text,
  title: text,
  uri: text,
  source: z.enum(["airec", "backbone"]),
  strategy: z.enum(["airec", "more-like-engaged", "popular", "catalogue"]),
  traceId: text,
});

export const recommendationsResponse = z.strictObject({
  requestId: text,
  items: list(recItem),
  degraded: z.boolean(),
  warnings,
});

export const citation = z.strictObject({
  n: z.number().int(),
  id: text,
  docId: text,
  title: text,
  uri: text,
  snippet: text,
});

/** The head of a chat answer: the SSE `citations` event, and the start of the JSON answer. */
export const chatHead = z.strictObject({
  queryId: text,
  retrievalQuery: text,
  citations: list(citation),
  degraded: z.boolean(),
  rerank: z.enum(["applied", "skipped"]),
  warnings,
});

export const chatResponse = chatHead.extend({ answer: text, recommendations: list(recItem) });

export const eventsResponse = z.strictObject({
  accepted: z.number().int(),
  refused: list(z.strictObject({ field: text, message: text })),
});

export const healthResponse = z.strictObject({ status: z.literal("ok") });

export const readinessResponse = z.strictObject({
  status: z.enum(["ready", "unavailable"]),
  checks: z.strictObject({ elasticsearch: text, opensearch: text }),
});
