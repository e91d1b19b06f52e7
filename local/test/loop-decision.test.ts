import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decidePromotion, decisionTable } from "../src/loop/decision.ts";

const m = (ndcg: number, mrr: number, queries = 40) => ({ "ndcg@10": ndcg, "mrr@10": mrr, "recall@10": 0.9, queries });
/** The loop's decision on ndcg@10 (its primary metric). */
const decide = (serving: Record<string, number>, candidate: Record<string, number>, kind = "embed") =>
  decidePromotion({ kind, serving, candidate, primary: "ndcg@10" });

describe("decidePromotion", () => {
  it("promotes a candidate that beats the serving version on the primary metric and loses on none", () => {
    const d = decide(m(0.61, 0.55), m(0.66, 0.57));
    expect(d.promote).toBe(true);
    expect(d.reason).toBe(
      "embed: promoted: ndcg@10 0.6600 beats the serving 0.6100 (+0.0500) with no other metric worse, over 40 held-out queries",
    );
    expect(d.rows.map((r) => r.metric)).toEqual(["ndcg@10", "mrr@10", "recall@10"]);
  });

  it("does not promote a tie, and says it is a tie with the figures", () => {
    const d = decide(m(0.5, 0.4), m(0.5, 0.45), "rerank");
    expect(d.promote).toBe(false);
    expect(d.reason).toBe(
      "rerank: not promoted: ndcg@10 0.5000 ties the serving 0.5000 (+0.0000) over 40 held-out queries",
    );
  });

  it("treats a difference within the tolerance as a tie", () => {
    const d = decide(m(0.5, 0.4), m(0.5 + 1e-12, 0.4));
    expect(d.promote).toBe(false);
    expect(d.reason).toContain("ties");
  });

  it("does not promote a worse candidate", () => {
    const d = decide(m(0.7, 0.6), m(0.65, 0.6));
    expect(d.promote).toBe(false);
    expect(d.reason).toBe(
      "embed: not promoted: ndcg@10 0.6500 is worse than the serving 0.7000 (-0.0500) over 40 held-out queries",
    );
  });

  it("does not promote a better primary metric bought with a worse secondary one", () => {
    const d = decide(m(0.6, 0.6), m(0.62, 0.58));
    expect(d.promote).toBe(false);
    expect(d.reason).toBe(
      "embed: not promoted: ndcg@10 improves (+0.0200) but mrr@10 0.5800 < 0.6000 (-0.0200) over 40 held-out queries",
    );
  });

  it("refuses to compare evaluations of different held-out sets", () => {
    const d = decide(m(0.5, 0.5, 40), m(0.9, 0.9, 39));
    expect(d.promote).toBe(false);
    expect(d.reason).toContain("different held-out sets (40 vs 39 queries)");
  });

  it("names a missing metric", () => {
    expect(() => decide({ queries: 3 }, m(0.5, 0.5, 3))).toThrow(
      "embed serving metrics: 'ndcg@10' is undefined; expected a finite number",
    );
  });

  it("prints one aligned line per metric", () => {
    const d = decide(m(0.61, 0.55), m(0.66, 0.57));
    expect(decisionTable(d)[0]).toBe("ndcg@10    serving 0.6100  new 0.6600  +0.0500");
  });

  it("never promotes both ways, and never promotes without a gain on the primary metric", () => {
    const unit = fc.double({ min: 0, max: 1, noNaN: true });
    fc.assert(
      fc.property(unit, unit, unit, unit, (a, b, c, d) => {
        const x = decide(m(a, b), m(c, d), "k");
        const y = decide(m(c, d), m(a, b), "k");
        expect(x.promote && y.promote).toBe(false);
        if (c <= a) expect(x.promote).toBe(false);
        if (c > a + 1e-9 && d >= b) expect(x.promote).toBe(true);
      }),
    );
  });
});
