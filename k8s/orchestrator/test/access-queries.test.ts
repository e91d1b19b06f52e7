import { accessFilter, DEFAULT_PROFILE, FIELDS, type Principal } from "@search-backbone/relevance";
import { describe, expect, it } from "vitest";
import type { AirecClient } from "../src/airec";
import { Deadline } from "../src/deadline";
import type { EngineName } from "../src/domain";
import type { EngagementReader } from "../src/engagement";
import type { IndexResolver, PinnedIndex } from "../src/indices";
import { createMetrics } from "../src/metrics";
import { Recommender } from "../src/recommendations";
import { esBodies, filterClauses, osBodies } from "../src/retrieval";

/**
 * Every query the service sends for a caller carries that caller's access filter, kNN ones inside the
 * kNN search. The recommender runs against recording stand-ins of both engines here (each answers
 * with no hits, so every fallback runs); the leak test (access.engines.test.ts) runs the same
 * queries on the real engines.
 */

const ALICE: Principal = { id: "alice", groups: ["finance"] };
const FILTER = accessFilter(ALICE);

/** Whether a query body (any nesting) holds the access filter, and where its kNN parts put it. */
function carriesFilter(body: unknown): boolean {
  return JSON.stringify(body).includes(JSON.stringify(FILTER));
}

function knnFilters(body: any): unknown[] {
  const out: unknown[] = [];
  const walk = (node: any) => {
    if (!node || typeof node !== "object") return;
    if (node.knn) {
      const knn = node.knn.field ? node.knn : Object.values(node.knn)[0];
      out.push((knn as any)?.filter);
    }
    for (const value of Object.values(node)) walk(value);
  };
  walk(body);
  return out;
}

describe("retrieval's engine queries", () => {
  it("carry the access filter in BM25 and inside kNN, before the request's own filters", () => {
    const clauses = filterClauses({ sourcePrefix: "raw/md/" }, ALICE);
    expect(clauses[0]).toEqual(FILTER);
    for (const bodies of [
      esBodies(DEFAULT_PROFILE, "q", [0.1, 0.2], clauses),
      osBodies(DEFAULT_PROFILE, "q", [0.1, 0.2], clauses),
    ]) {
      const [bm25, knn] = bodies as [any, any];
      expect(bm25.query.bool.filter).toEqual(clauses);
      expect(knnFilters(knn)).toEqual([{ bool: { filter: clauses } }]);
    }
  });
});

describe("the recommender's engine queries", () => {
  it.each(["elasticsearch", "opensearch"] as EngineName[])(
    "carry the access filter on %s: AIRec hydration, more-like-engaged (inside kNN), popular, catalogue",
    async (first) => {
      const bodies: any[] = [];
      const answer = { hits: { hits: [] } };
      const es = {
        search: async (params: any) => {
          bodies.push(params);
          return answer;
        },
      };
      const os = {
        search: async (params: any) => {
          bodies.push(params.body);
          return { body: answer };
        },
      };
      const pin = (engine: EngineName): PinnedIndex => ({ engine, index: "chunks-1", model: undefined, dims: 2 });
      const indices = {
        withIndex: (engine: EngineName, _deadline: Deadline, run: (p: PinnedIndex) => Promise<unknown>) => {
          if (engine !== first) return Promise.reject(new Error(`${engine} is down in this test`));
          return run(pin(engine));
        },
      } as unknown as IndexResolver;
      // What the engagement index would answer: engaged and popular documents, not yet access-checked.
      const engagement: EngagementReader = {
        engaged: async () => ["a.md", "b.md"],
        popular: async () => ["a.md", "b.md"],
      };
      const airec = {
        recommend: async () => [{ itemId: "secret.md", itemType: "article", traceId: "t" }],
      } as unknown as AirecClient;
      const recommender = new Recommender({
        es: es as any,
        os: os as any,
        indices,
        profile: DEFAULT_PROFILE,
        rawPrefix: "raw/",
        docUriPrefix: "",
        airec: { client: airec, sceneId: "home", itemType: "article" },
        engagement,
        timeouts: { engine: 500, airec: 500 },
        metrics: createMetrics(),
      });
      const result = await recommender.recommend(
        { userId: "u1", principal: ALICE, count: 3, contextVector: [0.1, 0.2] },
        new Deadline(4000),
      );
      expect(result.items).toEqual([]);
      // AIRec hydration, engaged vectors, the kNN, popular hydration, catalogue.
      expect(bodies.length).toBe(5);
      for (const body of bodies) expect(carriesFilter(body), JSON.stringify(body)).toBe(true);
      const knn = bodies.filter((b) => knnFilters(b).length > 0);
      expect(knn).toHaveLength(1);
      expect(knnFilters(knn[0])).toEqual([{ bool: { filter: [FILTER] } }]);
      expect(JSON.stringify(bodies[0])).toContain(`"${FIELDS.sourceKey}":["raw/secret.md"]`);
    },
  );
});
