import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { percentile, timedPool } from "../src/stats.ts";

describe("bench statistics", () => {
  it("nearest-rank percentiles", () => {
    expect(percentile([5, 1, 3, 2, 4], 50)).toBe(3);
    expect(percentile([5, 1, 3, 2, 4], 99)).toBe(5);
    expect(percentile([7], 1)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
  });

  it("a percentile is one of the values and grows with p", () => {
    fc.assert(
      fc.property(fc.array(fc.double({ noNaN: true }), { minLength: 1 }), fc.integer({ min: 1, max: 99 }), (xs, p) => {
        expect(xs).toContain(percentile(xs, p));
        expect(percentile(xs, p)).toBeLessThanOrEqual(percentile(xs, p + 1));
      }),
    );
  });

  it("runs every task once, never more than the concurrency at a time", async () => {
    let inFlight = 0;
    let most = 0;
    const seen: number[] = [];
    const times = await timedPool(20, 4, async (i) => {
      most = Math.max(most, ++inFlight);
      seen.push(i);
      await new Promise((r) => setTimeout(r, 2));
      inFlight--;
    });
    expect(times).toHaveLength(20);
    expect(seen.sort((a, b) => a - b)).toEqual([...Array(20).keys()]);
    expect(most).toBe(4);
  });
});
