import type { ElasticsearchClient } from "@search-backbone/engines";
import { ENGAGEMENT_FIELDS as F } from "@search-backbone/relevance";
import type { Deadline } from "./deadline";
import type { TelemetryEvent } from "./events";
import { type Metrics, timed } from "./metrics";
import type { Sink } from "./telemetry";

/**
 * Engagement shared by every replica: the backbone's engagement index in Elasticsearch (created by the
 * backbone setup, see the relevance package's engagement.ts). Telemetry writes positive engagements to
 * it in batches from its buffer (a sink like the event log's, so a request never waits on it); the
 * recommender reads a user's last engaged documents and the documents popular over a time window
 * from it. A restart, a rollout or another replica therefore sees the same engagement.
 */

/** What the recommender reads; the ids are document ids (object keys under raw/), not yet access-checked. */
export interface EngagementReader {
  engaged(userId: string, deadline: Deadline): Promise<readonly string[]>;
  popular(n: number, deadline: Deadline): Promise<readonly string[]>;
}

/** A positive engagement with a document: a click, an opened citation, or helpful feedback. */
export function isPositive(event: TelemetryEvent): boolean {
  if (!event.docId) return false;
  return (
    event.type === "click" || event.type === "citation_open" || (event.type === "feedback" && event.value === "up")
  );
}

/** The engagement document of an event, or undefined for an event that is not a positive engagement. */
export function engagementDoc(event: TelemetryEvent): Record<string, string> | undefined {
  if (!isPositive(event)) return undefined;
  return {
    [F.ts]: event.ts,
    [F.userId]: event.userId,
    ...(event.principalId !== undefined ? { [F.principalId]: event.principalId } : {}),
    [F.docId]: event.docId as string,
    [F.type]: event.type,
    ...(event.channel !== undefined ? { [F.channel]: event.channel } : {}),
  };
}

/** A user's last `n` engaged documents, newest first, each once. */
export function recentBody(userId: string, n: number) {
  return {
    size: n,
    _source: [F.docId],
    query: { bool: { filter: [{ term: { [F.userId]: userId } }] } },
    sort: [{ [F.ts]: "desc" }],
    collapse: { field: F.docId },
  };
}

/**
 * The `n` documents engaged with most often in the last `window` (date math: `7d`, `12h`), ties by id.
 * Callers may date their events (`ts`); one dated more than a few minutes ahead does not count.
 */
export function popularBody(window: string, n: number) {
  return {
    size: 0,
    query: { bool: { filter: [{ range: { [F.ts]: { gte: `now-${window}`, lte: "now+5m" } } }] } },
    aggs: { popular: { terms: { field: F.docId, size: n, order: [{ _count: "desc" }, { _key: "asc" }] } } },
  };
}

/** Engagements older than the retention period. */
export function expiredQuery(retentionDays: number) {
  return { range: { [F.ts]: { lt: `now-${retentionDays}d` } } };
}

/** The first failed item of a bulk answer, as an error; undefined when every item was written. */
export function bulkFailure(body: { errors?: boolean; items?: any[] }): Error | undefined {
  if (!body?.errors) return undefined;
  const failed = (body.items ?? []).map((item) => Object.values(item ?? {})[0] as any).find((r) => r?.error);
  const error = failed?.error;
  const reason = typeof error === "object" ? `${error.type}: ${error.reason}` : String(error ?? "unknown error");
  return new Error(`engagement index write failed (${failed?.status ?? "no status"}): ${reason}`);
}

export interface EngagementOptions {
  readonly es: ElasticsearchClient;
  readonly index: string;
  /** Popularity counts engagements this recent (ES date math, ENGAGEMENT_POPULAR_WINDOW). */
  readonly window: string;
  readonly retentionDays: number;
  readonly perUser?: number;
  readonly timeoutMs: number;
  readonly metrics: Metrics;
}

export class SharedEngagement implements EngagementReader {
  private checked = false;

  constructor(private readonly o: EngagementOptions) {}

  private async search(body: Record<string, unknown>, deadline: Deadline): Promise<any> {
    const options = { requestTimeout: deadline.timeout(this.o.timeoutMs), maxRetries: 0 };
    return timed(this.o.metrics, "engagement", () => this.o.es.search({ index: this.o.index, ...body }, options));
  }

  async engaged(userId: string, deadline: Deadline): Promise<readonly string[]> {
    const response = await this.search(recentBody(userId, this.o.perUser ?? 20), deadline);
    return ((response.hits?.hits ?? []) as any[]).map((h) => String(h._source?.[F.docId]));
  }

  async popular(n: number, deadline: Deadline): Promise<readonly string[]> {
    const response = await this.search(popularBody(this.o.window, n), deadline);
    return ((response.aggregations?.popular?.buckets ?? []) as any[]).map((b) => String(b.key));
  }

  /**
   * The telemetry sink. Each row's id is this instance and the event's sequence number, so a retried
   * batch overwrites its own earlier attempt. Before the first write it checks that the index exists:
   * Elasticsearch would otherwise create one with guessed mappings; without it the batch stays buffered
   * and the error names the index and the setup that creates it.
   */
  sink(instance: string): Sink<Record<string, string>> {
    return {
      name: "engagement",
      maxRows: 2000,
      maxBytes: 4_000_000,
      // Exposures are not stored here; telemetry's own check already refuses an engagement without one.
      keepsExposures: false,
      encode: engagementDoc,
      send: async (rows) => {
        const options = { requestTimeout: Math.max(this.o.timeoutMs, 10_000), maxRetries: 0 };
        if (!this.checked) {
          const exists = await this.o.es.indices.exists({ index: this.o.index }, options);
          if (!exists)
            throw new Error(`engagement index ${this.o.index} does not exist: the backbone setup creates it (run it)`);
          this.checked = true;
        }
        const operations = rows.flatMap((r) => [
          { index: { _index: this.o.index, _id: `${instance}-${r.seq}` } },
          r.row,
        ]);
        // wait_for: a recommendation right after the batch is written sees it (the sink runs in the background).
        const body = await timed(this.o.metrics, "engagement", () =>
          this.o.es.bulk({ operations, refresh: "wait_for" }, options),
        );
        const failure = bulkFailure(body as any);
        if (failure) throw failure;
      },
    };
  }

  /** Deletes engagements past the retention period; any replica may run it, it is idempotent. */
  async prune(): Promise<number> {
    const response = await this.o.es.deleteByQuery(
      { index: this.o.index, query: expiredQuery(this.o.retentionDays), conflicts: "proceed" },
      { requestTimeout: 120_000, maxRetries: 0 },
    );
    return Number(response.deleted ?? 0);
  }
}
