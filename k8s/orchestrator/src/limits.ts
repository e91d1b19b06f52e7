import { ProblemError } from "./problem";

/**
 * Backpressure for the calls to each dependency (an engine, a model endpoint). At most `concurrency`
 * calls run at once; up to `queue` more wait in order, each only while its request's budget leaves
 * `reserveMs` for the rest of the request. Anything past that is refused at once with an
 * `OverloadedError` (503 + Retry-After), so a burst becomes a short queue and quick refusals instead
 * of every request timing out together against an engine that has more work than it can finish.
 */

export interface Clock {
  now(): number;
  setTimer(run: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

export const realClock: Clock = {
  now: () => performance.now(),
  setTimer: (run, ms) => setTimeout(run, ms),
  clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** What a waiter needs from a request's budget (src/deadline.ts). */
export interface Budget {
  remaining(): number;
}

export type RefusalReason = "queue_full" | "budget";

export class OverloadedError extends ProblemError {
  constructor(
    readonly dependency: string,
    readonly reason: RefusalReason,
    readonly retryAfterSeconds: number,
  ) {
    super({
      title: "Overloaded",
      status: 503,
      detail: `${dependency} is at capacity (${reason === "queue_full" ? "its queue is full" : "no call slot within the request's budget"}); retry after ${retryAfterSeconds} s`,
      dependency,
    });
    this.name = "OverloadedError";
  }
}

export interface LimitOptions {
  /** Calls in flight at most. */
  readonly concurrency: number;
  /** Calls waiting at most; 0: refuse as soon as every slot is taken. */
  readonly queue: number;
  readonly retryAfterSeconds?: number;
}

interface Waiter {
  readonly grant: () => void;
  readonly timer: unknown;
}

export class Limiter {
  private active = 0;
  private readonly waiting: Waiter[] = [];
  private readonly retryAfter: number;

  constructor(
    readonly name: string,
    private readonly o: LimitOptions,
    private readonly clock: Clock = realClock,
    private readonly onRefusal: (reason: RefusalReason) => void = () => {},
  ) {
    if (!(o.concurrency >= 1) || !(o.queue >= 0)) throw new Error(`limiter ${name}: concurrency >= 1 and queue >= 0`);
    this.retryAfter = o.retryAfterSeconds ?? 1;
  }

  get inFlight(): number {
    return this.active;
  }

  get queued(): number {
    return this.waiting.length;
  }

  /** Every slot taken and the queue full: the next call would be refused. */
  get full(): boolean {
    return this.active >= this.o.concurrency && this.waiting.length >= this.o.queue;
  }

  /** The refusal the next call would get, counted as one, or undefined while it would be served or queued. */
  refusalIfFull(): OverloadedError | undefined {
    return this.full ? this.refuse("queue_full") : undefined;
  }

  /** Runs `call` in a slot: at once when one is free, after waiting in the queue, or not at all (refused). */
  run<T>(budget: Budget, call: () => Promise<T>, reserveMs = 0): Promise<T> {
    // The common case stays cheap: a free slot and nobody ahead, no extra promise or timer.
    if (this.active < this.o.concurrency && this.waiting.length === 0) {
      this.active++;
      return this.inSlot(call);
    }
    return this.wait(budget, reserveMs).then(() => this.inSlot(call));
  }

  private async inSlot<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } finally {
      this.release();
    }
  }

  private wait(budget: Budget, reserveMs: number): Promise<void> {
    const patience = budget.remaining() - reserveMs;
    if (this.waiting.length >= this.o.queue) return Promise.reject(this.refuse("queue_full"));
    if (patience <= 0) return Promise.reject(this.refuse("budget"));
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        grant: resolve,
        timer: this.clock.setTimer(() => {
          const at = this.waiting.indexOf(waiter);
          if (at < 0) return;
          this.waiting.splice(at, 1);
          reject(this.refuse("budget"));
        }, patience),
      };
      this.waiting.push(waiter);
    });
  }

  private release(): void {
    this.active--;
    const next = this.waiting.shift();
    if (!next) return;
    this.clock.clearTimer(next.timer);
    this.active++;
    next.grant();
  }

  private refuse(reason: RefusalReason): OverloadedError {
    this.onRefusal(reason);
    return new OverloadedError(this.name, reason, this.retryAfter);
  }
}

/** One limiter per engine and per model endpoint. */
export type Dependency = "elasticsearch" | "opensearch" | "embedding" | "rerank";

export interface LimitsSettings {
  readonly engineConcurrency: number;
  readonly modelConcurrency: number;
  readonly queue: number;
}

export function createLimiters(
  settings: LimitsSettings,
  onRefusal: (dependency: Dependency, reason: RefusalReason) => void = () => {},
  clock: Clock = realClock,
): Record<Dependency, Limiter> {
  const make = (name: Dependency, concurrency: number) =>
    new Limiter(name, { concurrency, queue: settings.queue }, clock, (reason) => onRefusal(name, reason));
  return {
    elasticsearch: make("elasticsearch", settings.engineConcurrency),
    opensearch: make("opensearch", settings.engineConcurrency),
    embedding: make("embedding", settings.modelConcurrency),
    rerank: make("rerank", settings.modelConcurrency),
  };
}

/**
 * Admission before any work: a search or chat request that would meet a full limiter is refused when it
 * arrives, before its body is parsed, its key checked or its query embedded. Under a burst most
 * requests are refusals, and a refusal that costs as much CPU as a search leaves none for the searches.
 */
export function admission(limiters: Readonly<Record<Dependency, Limiter>>, routes: readonly string[]) {
  const all = Object.values(limiters);
  return async (request: { method: string; url: string }) => {
    if (request.method !== "POST" || !routes.includes(request.url)) return;
    for (const limiter of all) {
      const refusal = limiter.refusalIfFull();
      if (refusal) throw refusal;
    }
  };
}
