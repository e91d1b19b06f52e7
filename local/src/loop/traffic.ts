import { type Api, ApiError, type ApiEvent, type SearchHit } from "./api.ts";
import type { HeadingQuery } from "./headings.ts";

/**
 * The traffic script: synthetic users replay queries and clicks through the public API, as the page
 * would, so that the event log holds enough to train on. Each query is a heading of the corpus; the
 * user clicks (search) or opens the citation (chat) of the document the heading comes from when the
 * answer contains it, and gives it a thumbs-up now and then. It is labelled as synthetic wherever it
 * is reported: these are not real users' judgements.
 */

export interface PlannedQuery extends HeadingQuery {
  readonly userId: string;
  readonly channel: "search" | "chat";
  readonly thumbsUp: boolean;
}

export interface TrafficPlanOptions {
  readonly count: number;
  readonly users: number;
  /** Every n-th query goes to /v1/chat (0: none). */
  readonly chatEvery: number;
  /** Every n-th engaged answer also gets a thumbs-up. */
  readonly thumbsUpEvery: number;
}

export function planTraffic(queries: readonly HeadingQuery[], o: TrafficPlanOptions): PlannedQuery[] {
  if (queries.length === 0) throw new Error("no queries to replay: the documents have no usable headings");
  return Array.from({ length: o.count }, (_, i) => {
    const q = queries[i % queries.length] as HeadingQuery;
    return {
      ...q,
      userId: `loop-traffic-${i % o.users}`,
      channel: o.chatEvery > 0 && i % o.chatEvery === o.chatEvery - 1 ? "chat" : "search",
      thumbsUp: o.thumbsUpEvery > 0 && i % o.thumbsUpEvery === 0,
    };
  });
}

/** The events a user sends after an answer: an engagement with the wanted document, if shown. */
export function engagementEvents(planned: PlannedQuery, queryId: string, hits: readonly SearchHit[]): ApiEvent[] {
  const position = hits.findIndex((h) => h.docId === planned.docId);
  if (position < 0) return [];
  const base = { userId: planned.userId, queryId, docId: planned.docId };
  const engaged: ApiEvent =
    planned.channel === "chat"
      ? { ...base, type: "citation_open", position, channel: "chat" }
      : { ...base, type: "click", position, channel: "search" };
  return planned.thumbsUp ? [engaged, { ...base, type: "feedback", value: "up", channel: planned.channel }] : [engaged];
}

export interface TrafficReport {
  searches: number;
  chats: number;
  /** Answers that contained the heading's document. */
  found: number;
  exposures: number;
  engagements: number;
  feedback: number;
  failures: number;
  chatDisabled: string | undefined;
  /** Exposed document ids, to check them against the documents folder. */
  readonly exposedDocIds: Set<string>;
}

/** Retries a request the rate limiter or backpressure refused (429/503 with Retry-After) a few times. */
async function polite<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      const retry = error instanceof ApiError && [429, 503].includes(error.status) && attempt < 5;
      if (!retry) throw error;
      await new Promise((r) => setTimeout(r, (error as ApiError).retryAfterMs ?? 1000));
    }
  }
}

/** Replays the plan one query at a time, at most `perMinute` API calls a minute. */
export async function replayTraffic(
  api: Api,
  plan: readonly PlannedQuery[],
  perMinute: number,
  onProgress: (done: number, report: TrafficReport) => void,
): Promise<TrafficReport> {
  const report: TrafficReport = {
    searches: 0,
    chats: 0,
    found: 0,
    exposures: 0,
    engagements: 0,
    feedback: 0,
    failures: 0,
    chatDisabled: undefined,
    exposedDocIds: new Set(),
  };
  const gapMs = 60_000 / perMinute;
  let next = performance.now();
  const pace = async () => {
    const wait = next - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    next = Math.max(next, performance.now()) + gapMs;
  };
  for (const [i, planned] of plan.entries()) {
    const useChat = planned.channel === "chat" && report.chatDisabled === undefined;
    const q: PlannedQuery = useChat ? planned : { ...planned, channel: "search" };
    try {
      await pace();
      let queryId: string;
      let hits: readonly SearchHit[];
      if (useChat) {
        try {
          const answer = await polite(() => api.chat(q.query, q.userId));
          ({ queryId } = answer);
          hits = answer.citations;
          report.chats++;
        } catch (error) {
          // Chat needs an answer generator; without one, the rest of the replay uses search only.
          if (!(error instanceof ApiError) || error.status < 500) throw error;
          report.chatDisabled = error.message;
          continue;
        }
      } else {
        const answer = await polite(() => api.search(q.query, q.userId, 10));
        ({ queryId } = answer);
        hits = answer.results;
        report.searches++;
      }
      report.exposures += hits.length;
      for (const h of hits) report.exposedDocIds.add(h.docId);
      const events = engagementEvents(q, queryId, hits);
      if (events.length > 0) {
        report.found++;
        await pace();
        await polite(() => api.events(events));
        report.engagements += events.filter((e) => e.type !== "feedback").length;
        report.feedback += events.filter((e) => e.type === "feedback").length;
      }
    } catch (error) {
      report.failures++;
      if (report.failures > Math.max(5, plan.length / 10)) {
        throw new Error(`traffic: ${report.failures} requests failed; the last: ${(error as Error).message}`);
      }
    }
    onProgress(i + 1, report);
  }
  return report;
}
