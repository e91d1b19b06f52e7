import { backOff } from "exponential-backoff";
import { type AirecClient, type BehaviorRow, behaviorType, NON_AIREC_TRACE_ID } from "./airec";
import { batchKey, encodeBatch, logLine, type ObjectStore } from "./event-log";
import type { TelemetryEvent } from "./events";
import type { Metrics } from "./metrics";

/**
 * Telemetry: exposures, clicks, citations opened and feedback, to AIRec's behavior table and to the
 * OSS event log, and the positive engagements to the engagement index (engagement.ts). Recording is synchronous and only appends to bounded in-memory buffers, so it never
 * blocks a request. Each sink drains its own buffer in order, one batch in flight, retrying with
 * exponential backoff; a batch that keeps failing stays at the head, so an outage shorter than the
 * buffer loses nothing and later batches never overtake earlier ones. A full buffer drops new events,
 * counted in orchestrator_telemetry_events_total{outcome="dropped"}. On SIGTERM `close` drains within
 * the grace period.
 *
 * A click is never sent without its exposure: an engagement is accepted only when the exposure of
 * that (queryId, docId) is known, and a sink forwards an engagement only if it accepted that exposure
 * (AIRec refuses to start when clicks outnumber exposures).
 */

interface Encoded<R> {
  readonly seq: number;
  readonly row: R;
  readonly bytes: number;
}

export interface Sink<R> {
  readonly name: string;
  readonly maxRows: number;
  readonly maxBytes: number;
  /**
   * False: this sink stores no exposures (the engagement index), so it does not check an engagement
   * against exposures it accepted; Telemetry.record has refused any engagement without its exposure.
   */
  readonly keepsExposures?: boolean;
  /** The row for an event, or undefined when this sink does not take it. */
  encode(event: TelemetryEvent): R | undefined;
  send(rows: readonly Encoded<R>[]): Promise<void>;
}

export interface QueueOptions {
  readonly capacity: number;
  readonly flushMs: number;
  readonly metrics: Metrics;
  readonly onError?: (sink: string, error: unknown) => void;
  readonly backoff?: { readonly startingDelay: number; readonly maxDelay: number; readonly attempts: number };
}

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

export class SinkQueue<R> {
  private readonly buffer: Encoded<R>[] = [];
  private readonly exposed: LruSet;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private closing = false;
  private deadline = Number.POSITIVE_INFINITY;

  constructor(
    private readonly sink: Sink<R>,
    private readonly o: QueueOptions,
  ) {
    this.exposed = new LruSet(Math.max(10_000, o.capacity * 4));
    this.schedule();
  }

  get size(): number {
    return this.buffer.length;
  }

  push(event: TelemetryEvent, seq: number): void {
    const metric = (outcome: string) => this.o.metrics.telemetryEvents.inc({ sink: this.sink.name, outcome });
    const key = `${event.queryId}\u0000${event.docId ?? ""}`;
    const checks = this.sink.keepsExposures !== false;
    if (checks && event.type !== "expose" && event.docId !== undefined && !this.exposed.has(key)) {
      metric("refused");
      return;
    }
    const row = this.sink.encode(event);
    if (row === undefined) return;
    if (this.closing || this.buffer.length >= this.o.capacity) {
      metric("dropped");
      return;
    }
    if (checks && event.type === "expose") this.exposed.add(key);
    this.buffer.push({ seq, row, bytes: Buffer.byteLength(JSON.stringify(row)) + 1 });
    this.o.metrics.telemetryBuffered.set({ sink: this.sink.name }, this.buffer.length);
    metric("queued");
  }

  private schedule() {
    if (this.closing) return;
    this.timer = setTimeout(() => {
      this.running = this.drain().finally(() => {
        this.running = undefined;
        this.schedule();
      });
    }, this.o.flushMs);
    this.timer.unref();
  }

  /** The head of the buffer, within the sink's row and byte limits (at least one row). */
  private nextBatch(): Encoded<R>[] {
    const batch: Encoded<R>[] = [];
    let bytes = 2;
    for (const item of this.buffer) {
      if (batch.length >= this.sink.maxRows || (batch.length > 0 && bytes + item.bytes > this.sink.maxBytes)) break;
      batch.push(item);
      bytes += item.bytes;
    }
    return batch;
  }

  private async drain(): Promise<void> {
    const b = this.o.backoff ?? { startingDelay: 200, maxDelay: 5000, attempts: 5 };
    while (this.buffer.length > 0) {
      const batch = this.nextBatch();
      try {
        await backOff(() => this.sink.send(batch), {
          numOfAttempts: b.attempts,
          startingDelay: b.startingDelay,
          maxDelay: b.maxDelay,
          jitter: "full",
          retry: (error) => {
            this.o.metrics.telemetryRetries.inc({ sink: this.sink.name });
            this.o.onError?.(this.sink.name, error);
            return performance.now() < this.deadline;
          },
        });
      } catch {
        return; // the batch stays at the head; the next tick tries again
      }
      this.buffer.splice(0, batch.length);
      this.o.metrics.telemetryEvents.inc({ sink: this.sink.name, outcome: "sent" }, batch.length);
      this.o.metrics.telemetryBuffered.set({ sink: this.sink.name }, this.buffer.length);
    }
  }

  /** Stops taking events and drains what is buffered, for at most `graceMs`; the rest counts as dropped. */
  async close(graceMs: number): Promise<number> {
    this.closing = true;
    if (this.timer) clearTimeout(this.timer);
    this.deadline = performance.now() + graceMs;
    await this.running;
    while (this.buffer.length > 0 && performance.now() < this.deadline) {
      const before = this.buffer.length;
      await this.drain();
      if (this.buffer.length === before) await new Promise((r) => setTimeout(r, 100));
    }
    const left = this.buffer.length;
    if (left > 0) this.o.metrics.telemetryEvents.inc({ sink: this.sink.name, outcome: "dropped" }, left);
    this.buffer.length = 0;
    return left;
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
