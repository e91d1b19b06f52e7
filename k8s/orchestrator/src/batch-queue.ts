import { backOff } from "exponential-backoff";
import type { Metrics } from "./metrics";

/**
 * The buffered, never-blocking delivery that telemetry and the chat log share. `push` only appends
 * to a bounded in-memory buffer, so it never blocks a request. The queue drains its buffer in order,
 * one batch in flight, retrying with exponential backoff; a batch that keeps failing stays at the
 * head, so an outage shorter than the buffer loses nothing and later batches never overtake earlier
 * ones. A full buffer (rows or bytes) drops new items, counted in
 * orchestrator_telemetry_events_total{outcome="dropped"}. `close` drains within the grace period.
 */

export interface Encoded<R> {
  readonly seq: number;
  readonly row: R;
  readonly bytes: number;
}

export interface Sink<R, E> {
  readonly name: string;
  readonly maxRows: number;
  readonly maxBytes: number;
  /** The row for an item, or undefined when this sink does not take it. */
  encode(item: E): R | undefined;
  send(rows: readonly Encoded<R>[]): Promise<void>;
}

export interface QueueOptions {
  readonly capacity: number;
  /** Bytes of encoded rows the buffer may hold; unset: only `capacity` (rows) bounds it. */
  readonly capacityBytes?: number;
  readonly flushMs: number;
  readonly metrics: Metrics;
  readonly onError?: (sink: string, error: unknown) => void;
  readonly backoff?: { readonly startingDelay: number; readonly maxDelay: number; readonly attempts: number };
}

export class BatchQueue<R, E> {
  private readonly buffer: Encoded<R>[] = [];
  private bufferedBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private closing = false;
  private deadline = Number.POSITIVE_INFINITY;

  constructor(
    protected readonly sink: Sink<R, E>,
    protected readonly o: QueueOptions,
  ) {
    this.schedule();
  }

  get size(): number {
    return this.buffer.length;
  }

  protected count(outcome: string, n = 1): void {
    this.o.metrics.telemetryEvents.inc({ sink: this.sink.name, outcome }, n);
  }

  /** Whether this queue takes the item at all (a refusal is counted as such). */
  protected admits(_item: E): boolean {
    return true;
  }

  /** Called for each item that was buffered. */
  protected buffered(_item: E): void {}

  push(item: E, seq: number): void {
    if (!this.admits(item)) {
      this.count("refused");
      return;
    }
    const row = this.sink.encode(item);
    if (row === undefined) return;
    const bytes = Buffer.byteLength(JSON.stringify(row)) + 1;
    const full =
      this.buffer.length >= this.o.capacity ||
      (this.o.capacityBytes !== undefined && this.bufferedBytes + bytes > this.o.capacityBytes);
    if (this.closing || full) {
      this.count("dropped");
      return;
    }
    this.buffered(item);
    this.buffer.push({ seq, row, bytes });
    this.bufferedBytes += bytes;
    this.o.metrics.telemetryBuffered.set({ sink: this.sink.name }, this.buffer.length);
    this.count("queued");
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
      this.bufferedBytes -= batch.reduce((n, item) => n + item.bytes, 0);
      this.count("sent", batch.length);
      this.o.metrics.telemetryBuffered.set({ sink: this.sink.name }, this.buffer.length);
    }
  }

  /** Stops taking items and drains what is buffered, for at most `graceMs`; the rest counts as dropped. */
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
    if (left > 0) this.count("dropped", left);
    this.buffer.length = 0;
    this.bufferedBytes = 0;
    return left;
  }
}
