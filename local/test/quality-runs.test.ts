import { fuse, profileOnlyProblems } from "@search-backbone/relevance";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { K, orders, passes, passProfile } from "../src/quality/runs.ts";

describe("the quality benchmark's passes through the orchestrator", () => {
  const all = passes([0.3, 0.7]);

  it("name every run of the issue once", () => {
    const names = all.flatMap((p) => [p.fused, p.reranked]).filter(Boolean);
    expect(new Set(names).size).toBe(names.length);
    expect(names.sort()).toEqual(
      [
        "bm25",
        "base-vector",
        "base-hybrid",
        "base-hybrid+base-rerank",
        "base-hybrid+tuned-rerank",
        "tuned-vector",
        "tuned-hybrid",
        "tuned-hybrid+tuned-rerank",
        "tuned-hybrid+base-rerank",
      ].sort(),
    );
  });

  it("give valid profiles naming the pass's models, returning the whole rerank window", () => {
    for (const p of all) {
      const profile = passProfile(p);
      expect(profileOnlyProblems(profile)).toEqual([]);
      expect(profile.embedding.model).toBe(`embed-${p.generation}-v1`);
      expect(profile.rerank.model).toBe(`${p.reranker}-v1`);
      expect(profile.topK).toBe(profile.rerankWindow);
      expect(profile.rerankWindow).toBeGreaterThanOrEqual(K);
    }
  });

  it("weights [1, 0] keep BM25's order: the fusion of one list is that list", () => {
    const bm25 = [
      { id: "a", score: 9 },
      { id: "b", score: 5 },
      { id: "c", score: 1 },
    ];
    const knn = [
      { id: "z", score: 0.9 },
      { id: "a", score: 0.1 },
    ];
    const profile = passProfile(all[0] as (typeof all)[0]);
    const fused = fuse([bm25, knn], { weights: [1, 0], depth: profile.candidateDepth, window: 3 });
    expect(fused.map((h) => h.id)).toEqual(["a", "b", "c"]);
  });
});

describe("orders", () => {
  it("recovers the fused order from scores.fused and keeps the reranked one as returned", () => {
    const hits = [
      { id: "2", docId: "b.txt", scores: { fused: 0.5 } },
      { id: "1", docId: "a.txt", scores: { fused: 0.9 } },
      { id: "3", docId: "c.txt", scores: { fused: 0.5 } },
    ];
    expect(orders(hits)).toEqual({ reranked: ["b.txt", "a.txt", "c.txt"], fused: ["a.txt", "b.txt", "c.txt"] });
  });

  it("is a permutation of the hits for any scores", () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 20 }), (scores) => {
        const hits = scores.map((fused, i) => ({ id: `c${i}`, docId: `d${i}`, scores: { fused } }));
        const o = orders(hits);
        expect([...o.fused].sort()).toEqual([...o.reranked].sort());
        for (let i = 1; i < o.fused.length; i++) {
          const at = (d: string) => hits.find((h) => h.docId === d)?.scores.fused ?? 0;
          expect(at(o.fused[i - 1] as string)).toBeGreaterThanOrEqual(at(o.fused[i] as string));
        }
      }),
    );
  });
});
