import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Deadline } from "../src/deadline";
import { admission, type Clock, createLimiters, Limiter, OverloadedError } from "../src/limits";

/** A clock that moves only when told, firing due timers in time order. */
class FakeClock implements Clock {
  private t = 0;
  private seq = 0;
  private readonly timers = new Map<number, { at: number; run: () => void }>();
  now = () => this.t;
  setTimer(run: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + ms, run });
    return id;
  }
  clearTimer(handle: unknown): void {
    this.timers.delete(handle as number);
  }
  /** Moves to `to`, firing each due timer at its own time and letting promises settle after each. */
  async advanceTo(to: number): Promise<void> {
    for (;;) {
      const due = [...this.timers].filter(([, t]) => t.at <= to).sort((a, b) => a[1].at - b[1].at || a[0] - b[0])[0];
      if (!due) break;
      this.timers.delete(due[0]);
      this.t = Math.max(this.t, due[1].at);
      due[1].run();
      await settle();
    }
    this.t = Math.max(this.t, to);
    await settle();
  }
  get pending(): number {
    return this.timers.size;
  }
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe("dependency limiter", () => {
  it("runs up to its concurrency at once, queues the next in order and refuses past the queue", async () => {
    const clock = new FakeClock();
    const refusals: string[] = [];
    const limiter = new Limiter("elasticsearch", { concurrency: 2, queue: 1 }, clock, (r) => refusals.push(r));
    const budget = new Deadline(1000, clock.now);
    const order: string[] = [];
    const call = (name: string, ms: number) => () =>
      new Promise<string>((resolve) => {
        order.push(name);
        clock.setTimer(() => resolve(name), ms);
      });
    const a = limiter.run(budget, call("a", 100));
    const b = limiter.run(budget, call("b", 100));
    const c = limiter.run(budget, call("c", 100));
    const d = limiter.run(budget, call("d", 100));
    d.catch(() => {}); // asserted below
    await settle();
    expect([limiter.inFlight, limiter.queued]).toEqual([2, 1]);
    await expect(d).rejects.toBeInstanceOf(OverloadedError);
    await expect(d).rejects.toMatchObject({
      retryAfterSeconds: 1,
      problem: { status: 503, dependency: "elasticsearch" },
    });
    expect(refusals).toEqual(["queue_full"]);
    await clock.advanceTo(100);
    expect(order).toEqual(["a", "b", "c"]);
    expect([limiter.inFlight, limiter.queued]).toEqual([1, 0]);
    await clock.advanceTo(200);
    await expect(Promise.all([a, b, c])).resolves.toEqual(["a", "b", "c"]);
    expect([limiter.inFlight, limiter.queued, clock.pending]).toEqual([0, 0, 0]);
  });

  it("lets a waiter wait only while its budget leaves the reserve, then refuses it before the deadline", async () => {
    const clock = new FakeClock();
    const limiter = new Limiter("rerank", { concurrency: 1, queue: 4 }, clock);
    const long = limiter.run(
      new Deadline(10_000, clock.now),
      () => new Promise((r) => clock.setTimer(() => r(1), 500)),
    );
    const waiter = limiter.run(new Deadline(300, clock.now), async () => "ran", 100);
    let refusedAt = -1;
    waiter.catch(() => {
      refusedAt = clock.now();
    });
    await clock.advanceTo(199);
    expect(refusedAt).toBe(-1);
    await clock.advanceTo(250);
    expect(refusedAt).toBe(200);
    await expect(waiter).rejects.toMatchObject({ reason: "budget" });
    // A budget already inside the reserve is refused without waiting.
    await expect(limiter.run(new Deadline(50, clock.now), async () => 1, 100)).rejects.toMatchObject({
      reason: "budget",
    });
    await clock.advanceTo(500);
    await expect(long).resolves.toBe(1);
  });

  it("releases the slot when the call fails", async () => {
    const limiter = new Limiter("embedding", { concurrency: 1, queue: 0 }, new FakeClock());
    const budget = { remaining: () => 1000 };
    await expect(limiter.run(budget, () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    await expect(limiter.run(budget, async () => "next")).resolves.toBe("next");
  });

  it("creates one limiter per engine and model endpoint and reports refusals by dependency", async () => {
    const refused: string[] = [];
    const limiters = createLimiters({ engineConcurrency: 1, modelConcurrency: 1, queue: 0 }, (dependency, reason) =>
      refused.push(`${dependency}:${reason}`),
    );
    expect(Object.keys(limiters).sort()).toEqual(["elasticsearch", "embedding", "opensearch", "rerank"]);
    const budget = { remaining: () => 1000 };
    let release = () => {};
    const held = limiters.opensearch.run(budget, () => new Promise<void>((r) => (release = r)));
    await expect(limiters.opensearch.run(budget, async () => 1)).rejects.toBeInstanceOf(OverloadedError);
    await expect(limiters.elasticsearch.run(budget, async () => 2)).resolves.toBe(2);
    release();
    await held;
    expect(refused).toEqual(["opensearch:queue_full"]);
  });

  it("refuses a search at arrival while a limiter it needs is full, and lets other routes through", async () => {
    const refused: string[] = [];
    const limiters = createLimiters({ engineConcurrency: 1, modelConcurrency: 2, queue: 1 }, (dependency, reason) =>
      refused.push(`${dependency}:${reason}`),
    );
    const admit = admission(limiters, ["/v1/search"]);
    const search = { method: "POST", url: "/v1/search" };
    const budget = { remaining: () => 1000 };
    const releases: (() => void)[] = [];
    const hold = () => limiters.elasticsearch.run(budget, () => new Promise<void>((r) => releases.push(r)));
    const first = hold();
    await expect(admit(search)).resolves.toBeUndefined(); // a slot taken, the queue still has room
    const second = hold();
    await expect(admit(search)).rejects.toMatchObject({ dependency: "elasticsearch", retryAfterSeconds: 1 });
    await expect(admit({ method: "GET", url: "/v1/recommendations" })).resolves.toBeUndefined();
    expect(refused).toEqual(["elasticsearch:queue_full"]);
    releases.shift()?.();
    await first;
    await expect(admit(search)).resolves.toBeUndefined();
    await settle();
    releases.shift()?.();
    await second;
  });

  it("never has more than its concurrency in flight; every waiter runs or is refused before its deadline", async () => {
    const arrival = fc.record({
      at: fc.integer({ min: 0, max: 400 }),
      budget: fc.integer({ min: 1, max: 600 }),
      reserve: fc.integer({ min: 0, max: 200 }),
      duration: fc.integer({ min: 1, max: 150 }),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 0, max: 5 }),
        fc.array(arrival, { minLength: 1, maxLength: 30 }),
        async (concurrency, queue, arrivals) => {
          const clock = new FakeClock();
          const limiter = new Limiter("x", { concurrency, queue }, clock);
          let running = 0;
          let most = 0;
          const outcomes: { at: number; started?: number; refused?: number; deadline: number; reserve: number }[] = [];
          const sorted = [...arrivals].sort((a, b) => a.at - b.at);
          const done: Promise<unknown>[] = [];
          for (const a of sorted) {
            await clock.advanceTo(a.at);
            const outcome: (typeof outcomes)[number] = { at: a.at, deadline: a.at + a.budget, reserve: a.reserve };
            outcomes.push(outcome);
            const run = limiter.run(
              new Deadline(a.budget, clock.now),
              () =>
                new Promise<void>((resolve) => {
                  outcome.started = clock.now();
                  running++;
                  most = Math.max(most, running);
                  clock.setTimer(() => {
                    running--;
                    resolve();
                  }, a.duration);
                }),
              a.reserve,
            );
            done.push(
              run.catch((error) => {
                expect(error).toBeInstanceOf(OverloadedError);
                outcome.refused = clock.now();
              }),
            );
            await settle(); // an immediate refusal is recorded at its arrival time
            expect(limiter.queued).toBeLessThanOrEqual(queue);
          }
          await clock.advanceTo(10_000);
          await Promise.all(done);
          expect(most).toBeLessThanOrEqual(concurrency);
          for (const o of outcomes) {
            expect(o.started === undefined).not.toBe(o.refused === undefined);
            // Waiting ends, by a slot or a refusal, while the budget still holds the reserve (or at arrival).
            const latest = Math.max(o.at, o.deadline - o.reserve);
            expect(o.started ?? o.refused).toBeLessThanOrEqual(latest);
          }
          expect([limiter.inFlight, limiter.queued, clock.pending]).toEqual([0, 0, 0]);
        },
      ),
      { numRuns: 150 },
    );
  });
});
