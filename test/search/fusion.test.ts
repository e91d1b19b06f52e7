import {
  applyRerank,
  fuse,
  fusionSettings,
  kendallTau,
  MIN_NORMALIZED_SCORE,
  minMaxNormalize,
  overlapAtK,
} from "@search-backbone/relevance";
import { describe, expect, it } from "vitest";
import { PROFILE } from "./profile-fixtures";

const hits = (...pairs: [string, number][]) => pairs.map(([id, score]) => ({ id, score }));

describe("min-max normalisation", () => {
  it("maps each sub-query's scores onto [0.001, 1], flooring the minimum like OpenSearch", () => {
    const n = minMaxNormalize(hits(["a", 10], ["b", 6], ["c", 2]));
    expect(n.get("a")).toBe(1);
    expect(n.get("b")).toBe(0.5);
    expect(n.get("c")).toBe(MIN_NORMALIZED_SCORE);
  });

  it("gives every hit 1 when all scores are equal, and nothing for no hits", () => {
    expect([...minMaxNormalize(hits(["a", 3], ["b", 3])).values()]).toEqual([1, 1]);
    expect(minMaxNormalize([]).size).toBe(0);
  });

  it("is invariant to an affine transform of the scores (ES raw vs (1+cos)/2)", () => {
    const raw = hits(["a", 0.9], ["b", 0.1], ["c", -0.4]);
    const shifted = raw.map((h) => ({ id: h.id, score: (1 + h.score) / 2 }));
    const x = minMaxNormalize(raw);
    const y = minMaxNormalize(shifted);
    for (const id of ["a", "b", "c"]) expect(y.get(id)).toBeCloseTo(x.get(id) as number, 12);
  });
});

describe("weighted fusion", () => {
  const settings = { weights: [0.3, 0.7], depth: 3, window: 10 };

  it("combines normalised scores at the weights; a sub-query that missed a document counts 0", () => {
    const fused = fuse([hits(["a", 10], ["b", 0]), hits(["b", 0.9], ["c", 0.5])], settings);
    const byId = Object.fromEntries(fused.map((h) => [h.id, h.score]));
    expect(byId.a).toBeCloseTo(0.3, 12);
    expect(byId.b).toBeCloseTo(0.3 * MIN_NORMALIZED_SCORE + 0.7, 12);
    expect(byId.c).toBeCloseTo(0.7 * MIN_NORMALIZED_SCORE, 12);
    expect(fused.map((h) => h.id)).toEqual(["b", "a", "c"]);
    expect(fused.find((h) => h.id === "a")!.parts).toEqual([1, undefined]);
  });

  it("uses only the top `depth` of each sub-query and returns the top `window`", () => {
    const bm25 = hits(["a", 5], ["b", 4], ["c", 3], ["d", 2]);
    const fused = fuse([bm25, []], { weights: [0.5, 0.5], depth: 3, window: 2 });
    expect(fused.map((h) => h.id)).toEqual(["a", "b"]);
    const all = fuse([bm25, []], { weights: [0.5, 0.5], depth: 3, window: 10 });
    expect(all.map((h) => h.id)).not.toContain("d");
  });

  it("breaks ties by id so both engines' results compare deterministically", () => {
    expect(fuse([hits(["z", 1], ["y", 1]), []], settings).map((h) => h.id)).toEqual(["y", "z"]);
  });

  it("refuses a result list per weight mismatch", () => {
    expect(() => fuse([hits(["a", 1])], settings)).toThrow("1 sub-query results for 2 weights");
  });

  it("takes its settings from the profile", () => {
    expect(fusionSettings(PROFILE)).toEqual({ weights: [0.3, 0.7], depth: 100, window: 50 });
  });
});

describe("rerank and comparison helpers", () => {
  it("reorders by reranker scores, aligned by position", () => {
    const reranked = applyRerank(hits(["a", 0.9], ["b", 0.5]), [0.1, 0.8]);
    expect(reranked.map((h) => [h.id, h.score])).toEqual([
      ["b", 0.8],
      ["a", 0.1],
    ]);
    expect(() => applyRerank(hits(["a", 1]), [])).toThrow("0 scores for 1 hits");
  });

  it("measures overlap@k and Kendall's tau", () => {
    expect(overlapAtK(["a", "b", "c"], ["c", "b", "x"], 3)).toBeCloseTo(2 / 3);
    expect(kendallTau(["a", "b", "c"], ["a", "b", "c"])).toBe(1);
    expect(kendallTau(["a", "b", "c"], ["c", "b", "a"])).toBe(-1);
    expect(kendallTau(["a", "b", "c"], ["b", "a", "c"])).toBeCloseTo(1 / 3);
  });
});
