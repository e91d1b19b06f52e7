import { describe, expect, it } from "vitest";
import { summariseQueries, summaryLines } from "../src/loop/query-loop.ts";
import { engagementEvents, planTraffic } from "../src/loop/traffic.ts";

const queries = [
  { query: "json Encoder", docId: "json.rst.txt" },
  { query: "csv Reader", docId: "csv.rst.txt" },
];

describe("traffic plan", () => {
  it("cycles the queries over users, with every n-th query a chat and a thumbs-up", () => {
    const plan = planTraffic(queries, { count: 5, users: 2, chatEvery: 2, thumbsUpEvery: 3 });
    expect(plan.map((p) => [p.query, p.userId, p.channel, p.thumbsUp])).toEqual([
      ["json Encoder", "loop-traffic-0", "search", true],
      ["csv Reader", "loop-traffic-1", "chat", false],
      ["json Encoder", "loop-traffic-0", "search", false],
      ["csv Reader", "loop-traffic-1", "chat", true],
      ["json Encoder", "loop-traffic-0", "search", false],
    ]);
    expect(() => planTraffic([], { count: 1, users: 1, chatEvery: 0, thumbsUpEvery: 0 })).toThrow(
      "no queries to replay",
    );
  });

  it("engages only with the heading's document, at its position", () => {
    const [first, second] = planTraffic(queries, { count: 2, users: 1, chatEvery: 2, thumbsUpEvery: 1 });
    const hits = [
      { docId: "other.rst.txt", title: "", engines: [] },
      { docId: "json.rst.txt", title: "", engines: [] },
    ];
    expect(engagementEvents(first!, "q1", hits)).toEqual([
      { userId: "loop-traffic-0", queryId: "q1", docId: "json.rst.txt", type: "click", position: 1, channel: "search" },
      {
        userId: "loop-traffic-0",
        queryId: "q1",
        docId: "json.rst.txt",
        type: "feedback",
        value: "up",
        channel: "search",
      },
    ]);
    expect(engagementEvents(second!, "q2", hits)).toEqual([]);
  });
});

describe("query loop summary", () => {
  it("counts answers, errors, hits and degraded answers", () => {
    const s = summariseQueries([
      { at: 1, query: "a", hits: 10, degraded: false, warnings: [] },
      { at: 2, query: "b", hits: 0, degraded: true, warnings: ["opensearch", "elasticsearch"] },
      { at: 3, query: "c", hits: 8, degraded: false, warnings: [] },
      { at: 4, query: "d", error: "POST /v1/search: 503 Search unavailable" },
    ]);
    expect(s).toMatchObject({ queries: 4, answered: 3, errors: 1, zeroHits: 1, degraded: 1 });
    expect(s.hits).toEqual({ min: 0, median: 8, max: 10 });
    expect(summaryLines(s)[0]).toBe(
      "4 queries, 3 answered, 1 errors (target 0); hits per answer min 0 / median 8 / max 10; 1 with no hit",
    );
    expect(summaryLines(s)[2]).toBe("error x1: POST /v1/search: 503 Search unavailable");
  });
});
