import { readFileSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { importMapHash, VENDOR } from "../src/plugins/web";
import { ProblemError } from "../src/problem";
import { EnginesUnavailableError } from "../src/retrieval";
import { parseSse } from "../web/api.js";
import { AUTH, BACKBONE_ITEM, hit, injectApp, KEYS } from "./inject-harness";

type App = Awaited<ReturnType<typeof injectApp>>;
let t: App;
beforeEach(async () => {
  t = await injectApp();
});
afterEach(async () => {
  await t.app.close();
});

const post = (url: string, payload: unknown, headers: Record<string, string> = AUTH) =>
  t.app.inject({ method: "POST", url, headers, payload: payload as any });
const get = (url: string, headers: Record<string, string> = AUTH) => t.app.inject({ method: "GET", url, headers });

const invalid = (errors: { field: string; message: string }[]) => ({
  type: "about:blank",
  title: "Invalid request",
  status: 400,
  detail: errors.map((e) => `${e.field}: ${e.message}`).join("; "),
  errors,
});

describe("validation at the edge: 400 problem+json naming every field", () => {
  it.each([
    [
      "a missing field",
      { topK: 3 },
      [{ field: "body.query", message: "Invalid input: expected string, received undefined" }],
    ],
    [
      "a wrong type",
      { query: "x", topK: "ten" },
      [{ field: "body.topK", message: "Invalid input: expected number, received string" }],
    ],
    ["an unknown key", { query: "x", injected: true }, [{ field: "body", message: 'Unrecognized key: "injected"' }]],
    [
      "a filter out of range",
      { query: "x", filters: { contentType: [""] } },
      [{ field: "body.filters.contentType.0", message: "Too small: expected string to have >=1 characters" }],
    ],
  ])("search: %s", async (_name, payload, errors) => {
    const res = await post("/v1/search", payload);
    expect(res.statusCode).toBe(400);
    expect(res.headers["content-type"]).toBe("application/problem+json; charset=utf-8");
    expect(res.json()).toEqual(invalid(errors));
  });

  it("search: no body, a JSON null, a text body", async () => {
    const none = await t.app.inject({ method: "POST", url: "/v1/search", headers: AUTH });
    expect(none.json()).toEqual(
      invalid([{ field: "body", message: "Invalid input: expected object, received undefined" }]),
    );
    const nul = await post("/v1/search", "null", { ...AUTH, "content-type": "application/json" });
    expect(nul.json()).toEqual(invalid([{ field: "body", message: "Invalid input: expected object, received null" }]));
    const text = await post("/v1/search", "hi", { ...AUTH, "content-type": "text/plain" });
    expect(text.json()).toEqual(
      invalid([{ field: "body", message: "Invalid input: expected object, received string" }]),
    );
  });

  it("search: malformed JSON and an empty JSON body are 400 before the route", async () => {
    const json = { ...AUTH, "content-type": "application/json" };
    const notJson = await post("/v1/search", "{not json", json);
    const message = "Body is not valid JSON but content-type is set to 'application/json'";
    expect(notJson.statusCode).toBe(400);
    expect(notJson.json()).toEqual({ ...invalid([{ field: "body", message }]), detail: message });
    const empty = await post("/v1/search", "", json);
    expect(empty.json().errors).toEqual([
      { field: "body", message: "Body cannot be empty when content-type is set to 'application/json'" },
    ]);
  });

  it("chat: the conversation's fields, down to one message's content", async () => {
    const lastNotUser = await post("/v1/chat", { messages: [{ role: "assistant", content: "hi" }] });
    expect(lastNotUser.json()).toEqual(
      invalid([{ field: "body.messages", message: "the last message must have role 'user'" }]),
    );
    const empty = await post("/v1/chat", { messages: [{ role: "user", content: "" }] });
    expect(empty.json()).toEqual(
      invalid([{ field: "body.messages.0.content", message: "Too small: expected string to have >=1 characters" }]),
    );
  });

  it("recommendations: the query string, every field at once", async () => {
    const res = await get("/v1/recommendations?count=500");
    expect(res.json()).toEqual(
      invalid([
        { field: "query.userId", message: "Invalid input: expected string, received undefined" },
        { field: "query.count", message: "Too big: expected number to be <=50" },
      ]),
    );
    expect((await get("/v1/recommendations?userId=u&x=1")).json()).toEqual(
      invalid([{ field: "query", message: 'Unrecognized key: "x"' }]),
    );
    expect((await get("/v1/recommendations?userId=u&userId=v")).json()).toEqual(
      invalid([{ field: "query.userId", message: "Invalid input: expected string, received array" }]),
    );
  });

  it("events: a rule across fields names the field it is about", async () => {
    const res = await post("/v1/events", { events: [{ type: "click", userId: "u", queryId: "q" }] });
    expect(res.json()).toEqual(invalid([{ field: "body.events.0.docId", message: "required for click" }]));
  });

  it("a body over the limit is 413, naming the limit", async () => {
    const res = await post("/v1/search", { query: "x".repeat(5000) });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toEqual({
      type: "about:blank",
      title: "Payload too large",
      status: 413,
      detail: "the body exceeds 4096 bytes",
      errors: [{ field: "body", message: "at most 4096 bytes" }],
    });
  });

  it("hands the handler the parsed input: trimmed text, defaults applied", async () => {
    const seen: string[] = [];
    t.script.retrieve = async (text) => {
      seen.push(text);
      return { hits: [], vector: undefined, degraded: false, warnings: [], rerank: "skipped" };
    };
    const counts: number[] = [];
    const recommend = t.script.recommend;
    t.script.recommend = (request) => {
      counts.push(request.count);
      return recommend(request);
    };
    expect((await post("/v1/search", { query: "  refunds  " })).statusCode).toBe(200);
    expect((await get("/v1/recommendations?userId=u")).statusCode).toBe(200);
    expect((await get("/v1/recommendations?userId=u&count=7")).statusCode).toBe(200);
    expect(seen).toEqual(["refunds"]);
    expect(counts).toEqual([10, 7]);
  });
});

describe("auth, rate limit, routes that do not exist", () => {
  it("401 names the header; a missing key and an unknown key differ", async () => {
    const detail = "a valid API key is required in the Authorization header (Bearer) or x-api-key";
    const missing = await post("/v1/search", { query: "x" }, {});
    expect(missing.statusCode).toBe(401);
    expect(missing.json()).toEqual({
      type: "about:blank",
      title: "Unauthorized",
      status: 401,
      detail,
      errors: [{ field: "header.authorization", message: "missing" }],
    });
    const unknown = await post("/v1/search", { query: "x" }, { "x-api-key": "nope" });
    expect(unknown.json().errors).toEqual([{ field: "header.authorization", message: "unknown API key" }]);
    expect((await post("/v1/search", { query: "x" }, { "x-api-key": KEYS.main })).statusCode).toBe(200);
  });

  it("checks the key before validating the body", async () => {
    expect((await post("/v1/search", { nonsense: 1 }, {})).statusCode).toBe(401);
  });

  it("limits each key to its own rate, counting invalid requests too, with Retry-After", async () => {
    const limited = { authorization: `Bearer ${KEYS.limited}` };
    expect((await get("/v1/recommendations?userId=u", limited)).statusCode).toBe(200);
    expect((await get("/v1/recommendations?count=0", limited)).statusCode).toBe(400);
    const refused = await get("/v1/recommendations?userId=u", limited);
    expect(refused.statusCode).toBe(429);
    expect(refused.headers["retry-after"]).toBe("60");
    expect(refused.json()).toEqual({
      type: "about:blank",
      title: "Too many requests",
      status: 429,
      detail: "rate limit of 2 requests per minute for this API key exceeded; retry in 1 minute",
    });
    expect((await get("/v1/recommendations?userId=u")).statusCode).toBe(200);
    expect((await get("/healthz", {})).statusCode).toBe(200);
  });

  it("answers an unknown route or method with a 404 problem", async () => {
    for (const [method, url, path] of [
      ["GET", "/nope?x=1", "/nope"],
      ["GET", "/v1/search", "/v1/search"],
    ] as const) {
      const res = await t.app.inject({ method, url, headers: AUTH });
      expect(res.statusCode).toBe(404);
      expect(res.json()).toEqual({
        type: "about:blank",
        title: "Not found",
        status: 404,
        detail: `no route ${method} ${path}`,
      });
    }
  });
});

describe("answers", () => {
  it("search: results with uri, snippet and scores, and exposures a click can refer to", async () => {
    const res = await post("/v1/search", { query: "x", userId: "u1", topK: 2 });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toBe("application/json; charset=utf-8");
    const body = res.json();
    expect(Object.keys(body)).toEqual(["queryId", "results", "degraded", "rerank", "warnings"]);
    expect(body.results[0]).toEqual({
      id: "doc1.md#0",
      docId: "doc1.md",
      title: "Doc 1",
      uri: "oss://b/raw/doc1.md",
      snippet: hit(1).content.slice(0, 300),
      score: 0.9,
      engines: ["elasticsearch", "opensearch"],
      scores: { fused: 0.8, rerank: 0.9, elasticsearch: 0.8, opensearch: 0.7 },
    });
    const click = { type: "click", userId: "u1", queryId: body.queryId, docId: "doc2.md" };
    const stranger = { ...click, docId: "doc9.md" };
    const events = await post("/v1/events", { events: [click, stranger] });
    expect(events.statusCode).toBe(202);
    expect(events.json()).toEqual({
      accepted: 1,
      refused: [
        {
          field: "body.events.1.docId",
          message: `no exposure of docId "doc9.md" in queryId "${body.queryId}"; a click needs the exposure it engages with`,
        },
      ],
    });
  });

  it("events: 422 when every event is refused", async () => {
    const res = await post("/v1/events", { events: [{ type: "click", userId: "u", queryId: "q", docId: "d" }] });
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({
      title: "Events refused",
      status: 422,
      errors: [{ field: "body.events.0.docId" }],
    });
  });

  it("search: 503 with the engines' warnings when none answers", async () => {
    const warnings = [
      { dependency: "elasticsearch", message: "down" },
      { dependency: "opensearch", message: "down" },
    ];
    t.script.retrieve = async () => {
      throw new EnginesUnavailableError(warnings);
    };
    const res = await post("/v1/search", { query: "x" });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({
      type: "about:blank",
      title: "Search unavailable",
      status: 503,
      detail: "no search engine answered: elasticsearch: down; opensearch: down",
      warnings,
    });
  });

  it("an unexpected failure is a 500 problem that shows nothing of the error; the log has its message", async () => {
    t.script.retrieve = async () => {
      throw new Error("boom at 10.0.0.7");
    };
    const res = await post("/v1/search", { query: "x" });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({
      type: "about:blank",
      title: "Internal error",
      status: 500,
      detail: "the request failed; see the service log",
    });
    expect(t.logLines.some((l) => l.includes("unhandled error") && l.includes("boom at 10.0.0.7"))).toBe(true);
  });

  it("recommendations: the items as the recommender gave them", async () => {
    const res = await get("/v1/recommendations?userId=u&count=2");
    expect(res.json()).toEqual({
      requestId: "bb-req-1",
      items: [BACKBONE_ITEM],
      degraded: false,
      warnings: [],
    });
  });

  it("chat: answer, numbered citations and recommendations; 502 with the citations when generation fails", async () => {
    const ok = await post("/v1/chat", { messages: [{ role: "user", content: "hi" }] });
    const body = ok.json();
    expect(Object.keys(body)).toEqual([
      "queryId",
      "retrievalQuery",
      "answerMode",
      "citations",
      "degraded",
      "rerank",
      "warnings",
      "answer",
      "recommendations",
    ]);
    expect(body).toMatchObject({
      retrievalQuery: "hi",
      answerMode: "llm",
      answer: "Hello [1]",
      recommendations: [{ docId: "doc7.md" }],
    });
    expect(body.citations.map((c: any) => [c.n, c.docId, c.uri])).toEqual([
      [1, "doc1.md", "oss://b/raw/doc1.md"],
      [2, "doc2.md", "oss://b/raw/doc2.md"],
    ]);
    expect(body.citations[0]).toMatchObject({ passage: hit(1).content, engines: ["elasticsearch", "opensearch"] });
    t.script.tokens = async function* () {
      yield "partial";
      throw new Error("llm down");
    };
    const failed = await post("/v1/chat", { messages: [{ role: "user", content: "hi" }] });
    expect(failed.statusCode).toBe(502);
    expect(failed.json()).toMatchObject({
      type: "about:blank",
      title: "Generation failed",
      detail: "the answer could not be generated: llm down",
      partialAnswer: "partial",
      citations: [{ n: 1 }, { n: 2 }],
    });
  });

  it("chat without a model: an extractive answer quoted from the citations, labelled, streamed as tokens", async () => {
    const x = await injectApp({ extractive: true });
    try {
      x.script.retrieve = async () => ({
        hits: [
          hit(1, { content: "Intro line. The refund takes five days. Unrelated." }),
          hit(2, { content: "Refunds need the invoice number." }),
        ],
        vector: undefined,
        degraded: false,
        warnings: [],
        rerank: "applied",
      });
      const messages = [{ role: "user", content: "how long does a refund take?" }];
      const plain = await x.app.inject({ method: "POST", url: "/v1/chat", headers: AUTH, payload: { messages } });
      expect(plain.json()).toMatchObject({
        answerMode: "extractive",
        answer: "The refund takes five days. [1]",
        citations: [{ n: 1 }, { n: 2 }],
      });
      const streamed = await x.app.inject({
        method: "POST",
        url: "/v1/chat",
        headers: AUTH,
        payload: { messages, stream: true },
      });
      const { events, rest } = parseSse(streamed.body);
      expect(rest).toBe("");
      expect(events[0]).toMatchObject({ event: "citations", data: { answerMode: "extractive" } });
      const tokens = events.filter((e) => e.event === "token").map((e) => e.data.text);
      expect(tokens.length).toBeGreaterThan(3);
      expect(tokens.join("")).toBe("The refund takes five days. [1]");
      expect(events.slice(-2).map((e) => e.event)).toEqual(["recommendations", "done"]);
    } finally {
      await x.app.close();
    }
  });

  it("chat stream: citations, tokens, recommendations, done", async () => {
    const res = await post("/v1/chat", { messages: [{ role: "user", content: "hi" }], stream: true });
    expect(res.headers["content-type"]).toBe("text/event-stream; charset=utf-8");
    const events = res.body
      .split("\n\n")
      .filter(Boolean)
      .map((block) => /^event: (.*)$/m.exec(block)?.[1]);
    expect(events).toEqual(["citations", "token", "token", "recommendations", "done"]);
    await expect(t.metrics.openStreams.get()).resolves.toMatchObject({ values: [{ value: 0 }] });
  });

  it("healthz, readyz (cached 5 s) and metrics by route", async () => {
    expect((await get("/healthz", {})).json()).toEqual({ status: "ok" });
    expect((await get("/readyz", {})).json()).toEqual({
      status: "ready",
      checks: { elasticsearch: "ok", opensearch: "ok" },
    });
    await post("/v1/search", { query: "x" });
    const metrics = await get("/metrics", {});
    expect(metrics.headers["content-type"]).toMatch(/^text\/plain/);
    expect(metrics.body).toMatch(
      /orchestrator_http_request_duration_seconds_count\{route="\/v1\/search",method="POST",status="200"\} 1/,
    );
  });

  it("readyz: 503 naming each engine's problem when none has the alias", async () => {
    t.script.aliasExists = { es: async () => false, os: async () => Promise.reject(new Error("ECONNREFUSED")) };
    const res = await get("/readyz", {});
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({
      status: "unavailable",
      checks: { elasticsearch: "alias chunks missing", opensearch: "unreachable: ECONNREFUSED" },
    });
  });
});

/** Stands in for the overload refusals of the engine and model gates: a problem with a delay. */
class BusyError extends ProblemError {
  constructor(readonly retryAfterSeconds: number) {
    super({ title: "Busy", status: 503, detail: "too many searches in flight" });
  }
}

describe("the problems plugin and the response schemas", () => {
  it("turns a problem's retryAfterSeconds into Retry-After, in whole seconds rounded up", async () => {
    for (const [seconds, header] of [
      [1.2, "2"],
      [0, "0"],
      [30, "30"],
    ] as const) {
      t.script.retrieve = async () => {
        throw new BusyError(seconds);
      };
      const res = await post("/v1/search", { query: "x" });
      expect(res.statusCode).toBe(503);
      expect(res.headers["retry-after"]).toBe(header);
      expect(res.headers["content-type"]).toBe("application/problem+json; charset=utf-8");
      expect(res.json()).toEqual({
        type: "about:blank",
        title: "Busy",
        status: 503,
        detail: "too many searches in flight",
      });
    }
  });

  it("sets no Retry-After without a usable delay, nor for an error that is not a problem", async () => {
    const throwing = (error: unknown) => async () => {
      throw error;
    };
    t.script.retrieve = throwing(new BusyError(Number.NaN));
    expect((await post("/v1/search", { query: "x" })).headers["retry-after"]).toBeUndefined();
    t.script.retrieve = throwing(new ProblemError({ title: "Busy", status: 429 }));
    const plain = await post("/v1/search", { query: "x" });
    expect(plain.statusCode).toBe(429);
    expect(plain.headers["retry-after"]).toBeUndefined();
    t.script.retrieve = throwing(Object.assign(new Error("x"), { retryAfterSeconds: 5 }));
    const internal = await post("/v1/search", { query: "x" });
    expect(internal.statusCode).toBe(500);
    expect(internal.headers["retry-after"]).toBeUndefined();
  });

  it("serialises only the declared fields of an answer", async () => {
    const recommend = t.script.recommend;
    t.script.recommend = async (request) => {
      const result = await recommend(request);
      return { ...result, internal: "x", items: result.items.map((i) => ({ ...i, vector: [1, 2] })) } as typeof result;
    };
    t.script.retrieve = async () => ({
      hits: [{ ...hit(1), vector: [0.5] } as ReturnType<typeof hit>],
      vector: [0.5],
      degraded: false,
      warnings: [{ dependency: "rerank", message: "slow", stack: "at x" } as { dependency: string; message: string }],
      rerank: "skipped",
    });
    const recs = (await get("/v1/recommendations?userId=u")).json();
    expect(Object.keys(recs)).toEqual(["requestId", "items", "degraded", "warnings"]);
    expect(Object.keys(recs.items[0])).toEqual(["docId", "title", "uri", "source", "strategy", "traceId"]);
    const search = (await post("/v1/search", { query: "x" })).json();
    expect(search.warnings).toEqual([{ dependency: "rerank", message: "slow" }]);
    const chat = (await post("/v1/chat", { messages: [{ role: "user", content: "hi" }] })).json();
    expect(chat.warnings).toEqual([{ dependency: "rerank", message: "slow" }]);
    expect(Object.keys(chat.recommendations[0])).not.toContain("vector");
  });
});

describe("the page", () => {
  it("serves / and its modules without a key, under a strict CSP that pins the one inline import map", async () => {
    const page = await t.app.inject({ method: "GET", url: "/" });
    expect(page.statusCode).toBe(200);
    expect(page.headers["content-type"]).toBe("text/html; charset=utf-8");
    const csp = String(page.headers["content-security-policy"]);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain(`script-src 'self' ${importMapHash(page.body)}`);
    expect(csp).not.toContain("unsafe");
    expect(page.headers["x-content-type-options"]).toBe("nosniff");
    const map = JSON.parse(/<script type="importmap">(.*?)<\/script>/s.exec(page.body)![1]!).imports;
    for (const [specifier, url] of Object.entries<string>(map)) {
      const name = url.replace("./vendor/", "");
      const module = await t.app.inject({ method: "GET", url: `/vendor/${name}` });
      expect(module.statusCode, specifier).toBe(200);
      expect(module.headers["content-type"], specifier).toMatch(/javascript/);
      expect(module.body).toBe(readFileSync(VENDOR[name]!, "utf8"));
      expect(module.headers["content-security-policy"]).toBe(csp);
    }
    for (const asset of ["/web/app.js", "/web/api.js", "/web/style.css"])
      expect((await t.app.inject({ method: "GET", url: asset })).statusCode, asset).toBe(200);
  });

  it("serves nothing outside the page's files, and the API still needs a key", async () => {
    for (const url of ["/web/../package.json", "/web/%2e%2e/src/config.ts", "/vendor/compat.mjs", "/web/missing.js"])
      expect((await t.app.inject({ method: "GET", url })).statusCode, url).toBe(404);
    expect((await post("/v1/search", { query: "x" }, {})).statusCode).toBe(401);
  });

  it("refuses a page with no inline import map or with two", () => {
    expect(() => importMapHash("<html></html>")).toThrow("expected one inline import map, found 0");
  });
});
