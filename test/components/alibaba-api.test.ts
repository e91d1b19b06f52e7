import { describe, expect, it, vi } from "vitest";
import {
  changedKeys,
  checkResult,
  isNotFound,
  partialCreateFailure,
  pollStatus,
  problemProperty,
  resolveContext,
} from "../../components/alibaba-api";
import { FakeClock } from "../helpers/fakes/clock";

/** A poll over a scripted list of statuses (the last one sticks), with a fake clock. */
function scripted(statuses: string[], settings = { timeoutMinutes: 1, pollSeconds: 20 }) {
  const clock = new FakeClock();
  const lines: string[] = [];
  let reads = 0;
  const promise = pollStatus({
    read: async () => ({ status: statuses[Math.min(reads++, statuses.length - 1)] as string, at: clock.now() }),
    statusOf: (answer) => answer.status,
    describe: (status, answer) => `${status} at ${answer.at}`,
    succeeded: ["DONE"],
    failure: (status) => (status === "BROKEN" ? new Error(`broken after ${reads} reads`) : undefined),
    timedOut: (status) => new Error(`still ${status}`),
    settings,
    clock,
    progress: (line) => lines.push(line),
  });
  return { promise, clock, lines, reads: () => reads };
}

describe("pollStatus", () => {
  it("reads right away, then every pollSeconds, with one line per change of status", async () => {
    const poll = scripted(["WAIT", "WAIT", "BUSY", "DONE"]);
    expect(await poll.promise).toEqual({ status: "DONE", answer: { status: "DONE", at: 60_000 } });
    expect(poll.lines).toEqual(["WAIT at 0", "BUSY at 40000", "DONE at 60000"]);
    expect(poll.clock.sleeps).toEqual([20_000, 20_000, 20_000]);
  });

  it("stops at a failed status with the caller's error, without sleeping again", async () => {
    const poll = scripted(["WAIT", "BROKEN"]);
    await expect(poll.promise).rejects.toThrow("broken after 2 reads");
    expect(poll.clock.sleeps).toEqual([20_000]);
  });

  it("times out after the read at the deadline, and a success at the deadline still counts", async () => {
    const stuck = scripted(["WAIT"]);
    await expect(stuck.promise).rejects.toThrow("still WAIT");
    expect(stuck.reads()).toBe(4);
    expect(stuck.clock.now()).toBe(60_000);

    const justInTime = scripted(["WAIT", "WAIT", "WAIT", "DONE"]);
    expect((await justInTime.promise).status).toBe("DONE");
  });

  it("fails a zero timeout after one read", async () => {
    const poll = scripted(["WAIT"], { timeoutMinutes: 0, pollSeconds: 20 });
    await expect(poll.promise).rejects.toThrow("still WAIT");
    expect(poll.reads()).toBe(1);
    expect(poll.clock.sleeps).toEqual([]);
  });
});

describe("partial-create failure and not-found", () => {
  it("carries the id, the properties to record and the reason, as the engine reads them", () => {
    const error = partialCreateFailure("job ended Failed", "dlc-1", { jobId: "dlc-1", status: "Failed" });
    expect(error).toBeInstanceOf(Error);
    expect({ ...error, message: error.message }).toEqual({
      message: "job ended Failed",
      id: "dlc-1",
      properties: { jobId: "dlc-1", status: "Failed" },
      reasons: ["job ended Failed"],
    });
  });

  it("treats HTTP 404 and the named codes as gone, nothing else", () => {
    expect(isNotFound({ statusCode: 404 })).toBe(true);
    expect(isNotFound({ statusCode: 400, code: "InstanceNotFound" }, "InstanceNotFound")).toBe(true);
    expect(isNotFound({ statusCode: 400, code: "InstanceNotFound" })).toBe(false);
    expect(isNotFound({ statusCode: 403, code: "Forbidden" }, "InstanceNotFound")).toBe(false);
    expect(isNotFound(new Error("socket hang up"))).toBe(false);
    expect(isNotFound(undefined)).toBe(false);
  });
});

describe("check and diff helpers", () => {
  it("maps each problem to the top-level input it names", () => {
    expect(problemProperty("podCount: expected a whole number >= 1, got 0")).toBe("podCount");
    expect(problemProperty("purchase.quota.qps: expected a whole number >= 1, got 0")).toBe("purchase");
    expect(problemProperty('scenes[0]: expected 1-64 letters, got "a:b"')).toBe("scenes");
    const inputs = { podCount: 0 };
    expect(checkResult(inputs, ["podCount: expected a whole number >= 1, got 0"])).toEqual({
      inputs,
      failures: [{ property: "podCount", reason: "podCount: expected a whole number >= 1, got 0" }],
    });
    expect(checkResult(inputs, []).failures).toEqual([]);
  });

  it("lists the given keys whose values differ, by value and in the given order", () => {
    const olds = { a: 1, b: { c: [1, 2] }, d: "x" };
    expect(changedKeys(olds, { a: 1, b: { c: [1, 2] }, d: "x" }, ["a", "b", "d"])).toEqual([]);
    expect(changedKeys(olds, { a: 2, b: { c: [2, 1] }, d: "x" }, ["d", "b", "a"])).toEqual(["b", "a"]);
    expect(changedKeys(olds, { a: 1, b: { c: [1, 2] } }, ["d"])).toEqual(["d"]);
    expect(changedKeys(olds, { a: 9 }, ["b", "d"])).toEqual(["b", "d"]);
  });
});

describe("resolveContext", () => {
  it("keeps what the caller gives and fills the rest from the process", async () => {
    const env = { X: "1" };
    const progress = () => {};
    const ctx = resolveContext({ env, progress });
    expect(ctx.env).toBe(env);
    expect(ctx.progress).toBe(progress);
    expect(ctx.now).toBe(Date.now);
    expect(resolveContext().env).toBe(process.env);
  });

  it("sleeps on the process's timers by default", async () => {
    vi.useFakeTimers();
    try {
      let woke = false;
      const sleeping = resolveContext()
        .sleep(5_000)
        .then(() => {
          woke = true;
        });
      await vi.advanceTimersByTimeAsync(4_999);
      expect(woke).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      await sleeping;
      expect(woke).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });
});
