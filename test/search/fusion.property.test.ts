import {
  byScoreThenId,
  type FusionSettings,
  fuse,
  MIN_NORMALIZED_SCORE,
  minMaxNormalize,
  type ScoredHit,
} from "@search-backbone/relevance";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

/** Ids from a small pool, so the sub-queries share documents as BM25 and kNN do. */
const id = fc.integer({ min: 0, max: 40 }).map((n) => `doc-${n}`);

/** One sub-query's result: unique ids, best first, as an engine returns them. */
const subResult = (score: fc.Arbitrary<number>) =>
  fc
    .uniqueArray(fc.record({ id, score }), { selector: (hit) => hit.id, maxLength: 30 })
    .map((hits) => [...hits].sort(byScoreThenId));

/** Integer scores: an exact rescale (below) keeps every normalised value bit for bit. */
const integerScores = subResult(fc.integer({ min: 0, max: 1000 }));
const anyScores = subResult(fc.double({ min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true }));

const settings = fc.record({
  weights: fc.integer({ min: 0, max: 100 }).map((w) => [w / 100, 1 - w / 100]),
  depth: fc.integer({ min: 1, max: 30 }),
  window: fc.integer({ min: 1, max: 30 }),
}) satisfies fc.Arbitrary<FusionSettings>;

describe("fusion, for every input", () => {
  it("min-max puts every score on (0, 1]: the best at 1, the worst at 0.001 (OpenSearch's floor for a 0)", () => {
    fc.assert(
      fc.property(anyScores, (hits) => {
        const normalized = minMaxNormalize(hits);
        expect(normalized.size).toBe(hits.length);
        // Above 0 but possibly below the floor: OpenSearch floors only an exact 0, and so does this module.
        for (const value of normalized.values()) {
          expect(value).toBeGreaterThan(0);
          expect(value).toBeLessThanOrEqual(1);
        }
        if (hits.length === 0) return;
        expect(normalized.get(hits[0]!.id)).toBe(1);
        const last = hits[hits.length - 1]!;
        if (last.score < hits[0]!.score) expect(normalized.get(last.id)).toBe(MIN_NORMALIZED_SCORE);
      }),
    );
  });

  it("fused scores lie on [0, 1] and come best first, ties by id", () => {
    fc.assert(
      fc.property(anyScores, anyScores, settings, (bm25, knn, s) => {
        const fused = fuse([bm25, knn], s);
        for (const hit of fused) {
          expect(hit.score).toBeGreaterThanOrEqual(0);
          expect(hit.score).toBeLessThanOrEqual(1 + 1e-12);
        }
        expect([...fused].sort(byScoreThenId).map((hit) => hit.id)).toEqual(fused.map((hit) => hit.id));
      }),
    );
  });

  it("respects depth and window: only each sub-query's top `depth` enter, at most `window` leave", () => {
    fc.assert(
      fc.property(integerScores, integerScores, settings, (bm25, knn, s) => {
        const fused = fuse([bm25, knn], s);
        const candidates = new Set([...bm25.slice(0, s.depth), ...knn.slice(0, s.depth)].map((hit) => hit.id));
        expect(fused.length).toBe(Math.min(s.window, candidates.size));
        expect(new Set(fused.map((hit) => hit.id)).size).toBe(fused.length);
        for (const hit of fused) expect(candidates.has(hit.id)).toBe(true);
      }),
    );
  });

  it("the fused order does not change when one sub-query's scores are rescaled (a * score + b, a > 0)", () => {
    // a is a power of two and b an integer, so the rescaled scores are exact and min-max cancels them exactly.
    const rescale = fc.record({
      exponent: fc.integer({ min: -6, max: 10 }),
      shift: fc.integer({ min: -5000, max: 5000 }),
    });
    fc.assert(
      fc.property(
        integerScores,
        integerScores,
        settings,
        rescale,
        fc.boolean(),
        (bm25, knn, s, { exponent, shift }, first) => {
          const scaled = (hits: readonly ScoredHit[]) =>
            hits.map((hit) => ({ id: hit.id, score: 2 ** exponent * hit.score + shift }));
          const before = fuse([bm25, knn], s);
          const after = fuse(first ? [scaled(bm25), knn] : [bm25, scaled(knn)], s);
          expect(after.map((hit) => hit.id)).toEqual(before.map((hit) => hit.id));
          expect(after.map((hit) => hit.score)).toEqual(before.map((hit) => hit.score));
        },
      ),
    );
  });

  it("a document one sub-query found outranks one that no sub-query with positive weight found", () => {
    fc.assert(
      fc.property(integerScores, integerScores, fc.integer({ min: 1, max: 99 }), (bm25, knn, w) => {
        const s = { weights: [w / 100, 1 - w / 100], depth: 30, window: 60 };
        const fused = fuse([bm25, knn], s);
        for (const hit of fused) expect(hit.score).toBeGreaterThan(0);
      }),
    );
  });
});
