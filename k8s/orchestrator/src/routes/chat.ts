import { randomUUID } from "node:crypto";
import { setImmediate as nextTurn } from "node:timers/promises";
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import type { z } from "zod";
import { citationsOf, recordExposures, retrieveOr503 } from "../answers";
import { chatTurn } from "../chat-log";
import { Deadline } from "../deadline";
import { extractiveAnswer, tokensOf } from "../extractive";
import { buildPrompt, type ChatMessage, condenseQuery } from "../generation";
import type { Metrics } from "../metrics";
import type { ZodTypeProvider } from "../plugins/schemas";
import { ProblemError } from "../problem";
import type { RecResult } from "../recommendations";
import { message } from "../retrieval";
import { chatBody } from "../schemas/requests";
import { type chatHead, chatResponse } from "../schemas/responses";

type ChatHead = z.input<typeof chatHead>;

/** The extractive answer's tokens, each in its own turn of the event loop, so each leaves in its own write. */
async function* extractiveTokens(answer: string, signal: AbortSignal): AsyncIterable<string> {
  for (const token of tokensOf(answer)) {
    if (signal.aborted) return;
    yield token;
    await nextTurn();
  }
}

/**
 * POST /v1/chat: retrieval on the conversation's condensed query, an answer grounded in the numbered
 * citations, and recommendations computed while the answer is generated. The answer comes from the
 * LLM when one is configured (`answerMode: "llm"`), else it is quoted from the cited passages
 * (`answerMode: "extractive"`, src/extractive.ts). `stream: true` answers as SSE; otherwise one JSON
 * answer, or a 502 problem carrying the citations when generation fails.
 */
const chat: FastifyPluginAsync = async (fastify) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const { services, settings } = app;
  app.post("/v1/chat", { schema: { body: chatBody, response: { 200: chatResponse } } }, async (request, reply) => {
    const body = request.body;
    const asked = new Date().toISOString();
    const deadline = new Deadline(settings.budgetMs);
    const queryId = randomUUID();
    const retrievalQuery = condenseQuery(body.messages);
    const retrieval = await retrieveOr503(
      services.retriever,
      retrievalQuery,
      { principal: request.principal, ...(body.topK ? { topK: body.topK } : {}) },
      deadline,
    );
    const citations = citationsOf(retrieval.hits, settings.docUriPrefix);
    recordExposures(services.telemetry, request.principal, body.userId, queryId, retrievalQuery, "chat", citations);
    const recsPromise: Promise<RecResult> = services.recommender
      .recommend(
        {
          userId: body.userId ?? "anonymous",
          principal: request.principal,
          count: settings.chatRecommendations,
          contextVector: retrieval.vector,
          relatedDocIds: [...new Set(citations.map((c) => c.docId))],
        },
        new Deadline(settings.budgetMs),
      )
      .then((recs) => {
        recordExposures(
          services.telemetry,
          request.principal,
          body.userId,
          queryId,
          retrievalQuery,
          "recs",
          recs.items,
        );
        return recs;
      });
    const { generator } = services;
    const prompt = buildPrompt(body.messages as ChatMessage[], retrieval.hits);
    const answerTokens = generator
      ? (signal: AbortSignal) => generator.stream(prompt, signal)
      : (signal: AbortSignal) =>
          extractiveTokens(
            extractiveAnswer(
              retrievalQuery,
              retrieval.hits.map((h, i) => ({ n: i + 1, text: h.content })),
            ),
            signal,
          );
    const head: ChatHead = {
      queryId,
      retrievalQuery,
      answerMode: generator ? "llm" : "extractive",
      citations,
      degraded: retrieval.degraded,
      rerank: retrieval.rerank,
      warnings: retrieval.warnings,
    };
    // Only a whole answer is logged (not a failed or abandoned one): it is training data.
    const logTurn = (answer: string) =>
      services.chatLog?.record(
        chatTurn({
          ts: asked,
          queryId,
          traceId: request.id,
          principalId: request.principal.id,
          messages: body.messages,
          retrievalQuery,
          hits: retrieval.hits,
          answer,
          model: generator?.model,
        }),
      );
    if (body.stream) return streamChat(request, reply, answerTokens, app.metrics, head, recsPromise, logTurn);

    const abort = new AbortController();
    let answer = "";
    try {
      for await (const token of answerTokens(abort.signal)) answer += token;
    } catch (error) {
      await recsPromise.catch(() => undefined);
      throw new ProblemError({
        title: "Generation failed",
        status: 502,
        detail: `the answer could not be generated: ${message(error)}`,
        ...head,
        partialAnswer: answer,
      });
    }
    logTurn(answer);
    const recs = await recsPromise;
    return {
      ...head,
      answer,
      recommendations: recs.items,
      degraded: head.degraded || recs.degraded,
      warnings: [...head.warnings, ...recs.warnings],
    };
  });
};

/** SSE in the documented order: citations, tokens, recommendations, done (an error event before them when generation fails). */
async function streamChat(
  request: FastifyRequest,
  reply: FastifyReply,
  answerTokens: (signal: AbortSignal) => AsyncIterable<string>,
  metrics: Metrics,
  head: ChatHead,
  recsPromise: Promise<RecResult>,
  onAnswered: (answer: string) => void,
) {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    "Content-Type": "text/event-stream; charset=utf-8",
    "Cache-Control": "no-cache, no-transform",
    Connection: "keep-alive",
    "X-Accel-Buffering": "no",
  });
  const send = (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  const abort = new AbortController();
  const onClose = () => abort.abort();
  res.on("close", onClose);
  metrics.openStreams.inc();
  let finish = "stop";
  try {
    send("citations", head);
    try {
      let answer = "";
      for await (const token of answerTokens(abort.signal)) {
        answer += token;
        send("token", { text: token });
      }
      if (!abort.signal.aborted) onAnswered(answer);
    } catch (error) {
      finish = "error";
      if (!abort.signal.aborted) {
        request.log.warn({ err: { message: message(error) } }, "generation failed mid-stream");
        send("error", {
          type: "about:blank",
          title: "Generation failed",
          status: 502,
          detail: `the answer could not be completed: ${message(error)}`,
          citations: head.citations,
        });
      }
    }
    if (!abort.signal.aborted) {
      const recs = await recsPromise.catch(
        (error) =>
          ({
            items: [],
            requestId: "",
            degraded: true,
            warnings: [{ dependency: "recommendations", message: message(error) }],
          }) as RecResult,
      );
      send("recommendations", { items: recs.items, degraded: recs.degraded, warnings: recs.warnings });
      send("done", { finishReason: finish });
    }
  } finally {
    metrics.openStreams.dec();
    res.off("close", onClose);
    res.end();
  }
}

export default chat;
