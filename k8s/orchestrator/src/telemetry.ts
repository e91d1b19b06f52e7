import { type AirecClient, type BehaviorRow, behaviorType, NON_AIREC_TRACE_ID } from "./airec";
import { type Sink as BaseSink, BatchQueue, type QueueOptions } from "./batch-queue";
import { batchKey, encodeBatch, logLine, type ObjectStore } from "./event-log";
import type { TelemetryEvent } from "./events";

/**
 * Telemetry: exposures, clicks, citations opened and feedback, to AIRec's behavior table and to the
 * OSS event log, and the positive engagements to the engagement index (engagement.ts). Recording is
 * synchronous and only appends to each sink's bounded buffer (src/batch-queue.ts), so it never blocks
 * a request; on SIGTERM `close` drains within the grace period.
 *
 * A click is never sent without its exposure: an engagement is accepted only when the exposure of
 * that (queryId, docId) is known, and a sink forwards an engagement only if it accepted that exposure
 * (AIRec refuses to start when clicks outnumber exposures).
 */

export type Sink<R> = BaseSink<R, TelemetryEvent> & {
  /**
   * False: this sink stores no exposures (the engagement index), so it does not check an engagement
   * against exposures it accepted; Telemetry.record has refused any engagement without its exposure.
   */
  readonly keepsExposures?: boolean;
};

class LruSet {
  private readonly items = new Map<string, true>();
  constructor(private readonly capacity: number) {}
  add(key: string) {
    this.items.delete(key);
    this.items.set(key, true);
    if (this.items.size > this.capacity) this.items.delete(this.items.keys().next().value as string);
  }
  has(key: string) {
    return this.items.has(key);
  }
}

/** A telemetry sink's queue: it forwards an engagement only if it buffered that exposure. */
export class SinkQueue<R> extends BatchQueue<R, TelemetryEvent> {
  private readonly exposed: LruSet;
  private readonly checksExposures: boolean;

  constructor(sink: Sink<R>, o: QueueOptions) {
    super(sink, o);
    this.exposed = new LruSet(Math.max(10_000, o.capacity * 4));
    this.checksExposures = sink.keepsExposures !== false;
  }

  private static key(event: TelemetryEvent): string {
    return `${event.queryId}\u0000${event.docId ?? ""}`;
  }

  protected override admits(event: TelemetryEvent): boolean {
    if (!this.checksExposures) return true;
    return event.type === "expose" || event.docId === undefined || this.exposed.has(SinkQueue.key(event));
  }

  protected override buffered(event: TelemetryEvent): void {
    if (this.checksExposures && event.type === "expose") this.exposed.add(SinkQueue.key(event));
  }
}

/** AIRec behavior rows: PushDocument takes at most 800 rows and 1 MB per request. */
export function airecSink(client: AirecClient, options: { itemType: string; sceneId: string }): Sink<BehaviorRow> {
  return {
    name: "airec",
    maxRows: 800,
    maxBytes: 1_000_000,
    encode(event) {
      if (!event.docId) return undefined;
      const fields: Record<string, string> = {
        user_id: event.userId,
        item_id: event.docId,
        item_type: options.itemType,
        bhv_type: behaviorType(event.type, event.value),
        trace_id: event.traceId && !event.traceId.startsWith("bb-") ? event.traceId : NON_AIREC_TRACE_ID,
        scene_id: event.sceneId ?? options.sceneId,
        bhv_time: String(Math.floor(Date.parse(event.ts) / 1000)),
      };
      if (event.value) fields.bhv_value = event.value;
      return { cmd: "add", fields };
    },
    send: (rows) => client.pushBehaviors(rows.map((r) => r.row)),
  };
}

/** The OSS event log: gzipped JSONL batches in the layout of event-log.ts. The recommendations feed has
 * no query, and models/ prepare requires one on every exposure, so `recs` events go under their own prefix. */
export function eventLogSink(
  store: ObjectStore,
  options: { prefix: string; noQueryPrefix: string; instance: string },
): Sink<Record<string, unknown>> {
  return {
    name: "event-log",
    maxRows: 5000,
    maxBytes: 8_000_000,
    encode: logLine,
    async send(rows) {
      const first = rows[0]?.seq ?? 0;
      const withQuery = rows.filter((r) => r.row.channel !== "recs");
      const without = rows.filter((r) => r.row.channel === "recs");
      const at = new Date();
      if (withQuery.length)
        await store.put(
          batchKey(options.prefix, options.instance, first, at),
          encodeBatch(withQuery.map((r) => r.row)),
        );
      if (without.length)
        await store.put(
          batchKey(options.noQueryPrefix, options.instance, first, at),
          encodeBatch(without.map((r) => r.row)),
        );
    },
  };
}

export type RecordResult = { readonly accepted: true } | { readonly accepted: false; readonly reason: string };

/** What the request handlers talk to: exposure bookkeeping and fan-out to every sink. */
export class Telemetry {
  private readonly exposures = new Map<string, { traceId?: string | undefined; channel?: TelemetryEvent["channel"] }>();
  private seq = 0;

  constructor(
    private readonly queues: readonly SinkQueue<any>[],
    private readonly exposureCapacity = 200_000,
  ) {}

  record(event: TelemetryEvent): RecordResult {
    const key = `${event.queryId}\u0000${event.docId ?? ""}`;
    if (event.type === "expose") {
      if (this.exposures.has(key)) return { accepted: true };
      this.exposures.set(key, { traceId: event.traceId, channel: event.channel });
      if (this.exposures.size > this.exposureCapacity)
        this.exposures.delete(this.exposures.keys().next().value as string);
    } else if (event.docId !== undefined) {
      const exposure = this.exposures.get(key);
      if (!exposure) {
        return {
          accepted: false,
          reason: `no exposure of docId ${JSON.stringify(event.docId)} in queryId ${JSON.stringify(event.queryId)}; a ${event.type} needs the exposure it engages with`,
        };
      }
      event = { ...event, traceId: event.traceId ?? exposure.traceId, channel: event.channel ?? exposure.channel };
    }
    const seq = ++this.seq;
    for (const queue of this.queues) queue.push(event, seq);
    return { accepted: true };
  }

  buffered(): number {
    return this.queues.reduce((n, q) => n + q.size, 0);
  }

  async close(graceMs: number): Promise<number> {
    const left = await Promise.all(this.queues.map((q) => q.close(graceMs)));
    return left.reduce((a, b) => a + b, 0);
  }
}
