import type { Principal } from "@search-backbone/relevance";
import type { Deadline } from "./deadline";
import type { TelemetryEvent } from "./events";
import { ProblemError } from "./problem";
import { EnginesUnavailableError, type Retrieval, type RetrievedHit, type Retriever } from "./retrieval";
import type { Telemetry } from "./telemetry";

/** What the search, chat and recommendation routes share: retrieval as a 503, hits as results, exposures. */

export type RetrieveOptions = Parameters<Retriever["retrieve"]>[2];

/** Retrieval for a request; no engine answering is a 503 problem carrying the engines' warnings. */
export async function retrieveOr503(
  retriever: Pick<Retriever, "retrieve">,
  text: string,
  options: RetrieveOptions,
  deadline: Deadline,
): Promise<Retrieval> {
  try {
    return await retriever.retrieve(text, deadline, options);
  } catch (error) {
    if (error instanceof EnginesUnavailableError)
      throw new ProblemError({
        title: "Search unavailable",
        status: 503,
        detail: error.message,
        warnings: error.warnings,
      });
    throw error;
  }
}

const SNIPPET_CHARS = 300;

export const searchResult = (h: RetrievedHit, docUriPrefix: string) => ({
  id: h.id,
  docId: h.docId,
  title: h.title,
  uri: `${docUriPrefix}${h.sourceKey}`,
  snippet: h.content.slice(0, SNIPPET_CHARS),
  score: h.score,
  engines: h.engines,
  scores: h.scores,
});

/** Chat's numbered sources; the prompt cites them as [1]..[n] in the same order. */
export const citationsOf = (hits: readonly RetrievedHit[], docUriPrefix: string) =>
  hits.map((h, i) => ({
    n: i + 1,
    id: h.id,
    docId: h.docId,
    title: h.title,
    uri: `${docUriPrefix}${h.sourceKey}`,
    snippet: h.content.slice(0, SNIPPET_CHARS),
    passage: h.content,
    engines: h.engines,
  }));

/**
 * Records an `expose` for every document returned to a request with a user, in the order shown, so a
 * later click on one of them is accepted (telemetry refuses an engagement without its exposure).
 */
export function recordExposures(
  telemetry: Pick<Telemetry, "record">,
  principal: Principal,
  userId: string | undefined,
  queryId: string,
  query: string | undefined,
  channel: NonNullable<TelemetryEvent["channel"]>,
  docs: readonly { docId: string; traceId?: string }[],
): void {
  if (!userId) return;
  const ts = new Date().toISOString();
  docs.forEach((d, position) => {
    telemetry.record({
      type: "expose",
      ts,
      userId,
      principalId: principal.id,
      queryId,
      query,
      docId: d.docId,
      position,
      channel,
      traceId: d.traceId,
    });
  });
}
