import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
import { engagementIndex, indexNames, type ModelEndpoints, type RelevanceProfile } from "@search-backbone/relevance";
import {
  ENGINES_SCRIPT,
  type Engines,
  type ModelServer,
  startDashScope,
  startModelServer,
} from "@search-backbone/test-engines";
import { aliasTarget, esRequester, osRequester, retireIndices } from "search-backbone-jobs/setup/aliases";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AirecClient } from "../src/airec";
import { cloudCredential } from "../src/credentials";
import { startAirec } from "./fakes/airec";
import {
  ALIAS,
  type AppHandle,
  engines as acquire,
  ENGINE_PORTS,
  engineUrls,
  eventLog,
  logLines,
  PROFILE,
  SECRETS,
  seedBackbone,
  sseEvents,
  startApp,
} from "./harness";

/**
 * The orchestrator against real OpenSearch 3.6 and Elasticsearch 8.17 nodes (scripts/engines.sh, on
 * ports of its own), a corpus ingested by the backbone's own setup and ingestion, the backbone's
 * model server, and local fakes of DashScope chat (streaming SSE) and AIRec (signature-checking).
 * Tests share one corpus and run in order; the engine-down case is last.
 */

let e: Engines | undefined;
let models: ModelServer;
let slowModels: ModelServer;
let endpoints: ModelEndpoints;
let corpusDir: string;
let chat: Awaited<ReturnType<typeof startDashScope>>;
let airec: Awaited<ReturnType<typeof startAirec>>;
let app: AppHandle;
const started = performance.now();
const urls = engineUrls;
const loadEnvForCredentials = (vars: Record<string, string>) =>
  vars as unknown as Parameters<typeof cloudCredential>[0];
const airecItems = ["md/doc-0.md", "no/such-doc.md", "txt/doc-1.txt"];

beforeAll(async () => {
  e = await acquire();
  if (!e) return;
  models = await startModelServer({ maxBatch: 64 });
  slowModels = await startModelServer({ maxBatch: 64, latencyMs: 1500 });
  ({ corpusDir, endpoints } = await seedBackbone(e, models));
  chat = await startDashScope({ apiKey: SECRETS.dashscope });
  airec = await startAirec({
    accessKeyId: SECRETS.akId,
    accessKeySecret: SECRETS.akSecret,
    instanceId: "airec-cn-test",
    recommend: () => airecItems.map((itemId, i) => ({ itemId, itemType: "article", traceId: `airec-trace-${i}` })),
  });
  app = await startApp({ ...urls(), endpoints, chatBaseURL: chat.baseURL, airecEndpoint: airec.endpoint });
  console.log(
    `orchestrator suite ready in ${((performance.now() - started) / 1000).toFixed(1)} s (engines ${e.startSeconds.toFixed(1)} s)`,
  );
});

afterAll(async () => {
  await app?.app.shutdown();
  await Promise.all([models?.close(), slowModels?.close(), chat?.close(), airec?.close()]);
  if (corpusDir) rmSync(corpusDir, { recursive: true, force: true });
  if (e?.startedHere)
    execFileSync("bash", [ENGINES_SCRIPT, "stop", "all"], {
      stdio: "inherit",
      env: { ...process.env, ...ENGINE_PORTS },
    });
  console.log(`orchestrator suite: ${((performance.now() - started) / 1000).toFixed(1)} s in total`);
});

const json = async (r: Response) => ({
  status: r.status,
  type: r.headers.get("content-type"),
  body: (await r.json()) as any,
});
const until = async (check: () => boolean, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!check() && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  return check();
};
/** Exposures are per document shown (a result list can hold several chunks of one document). */
const docsOf = (body: any) => new Set(body.results.map((r: any) => r.docId)).size;

describe("search", () => {
  it("fuses both engines, reranks once, and names each result's engines", async (ctx) => {
    if (!e) ctx.skip();
    const rerankCalls = models.stats.rerankCalls;
    const embedCalls = models.stats.embedCalls;
    const { status, body } = await json(await app.call("POST", "/v1/search", { query: "invoice refund payment" }));
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body).toMatchObject({ degraded: false, rerank: "applied", warnings: [] });
    expect(body.results).toHaveLength(PROFILE.topK);
    expect(models.stats.rerankCalls - rerankCalls).toBe(1);
    expect(models.stats.embedCalls - embedCalls).toBe(1);
    const ids = body.results.map((r: any) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(
      body.results.every((r: any) => r.engines.includes("elasticsearch") && r.engines.includes("opensearch")),
    ).toBe(true);
    expect(body.results[0].snippet).toMatch(/invoice|refund|payment/);
    const scores = body.results.map((r: any) => r.scores.rerank);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
    expect(body.results[0].uri).toMatch(/^oss:\/\/docs-bucket\/raw\//);
  });

  it("applies filters on both engines", async (ctx) => {
    if (!e) ctx.skip();
    const { body } = await json(
      await app.call("POST", "/v1/search", { query: "cluster shard", filters: { sourcePrefix: "raw/md/" }, topK: 5 }),
    );
    expect(body.results.length).toBeGreaterThan(0);
    expect(body.results.every((r: any) => r.docId.startsWith("md/"))).toBe(true);
  });

  it("answers malformed and unauthorised requests with problem+json naming the field", async (ctx) => {
    if (!e) ctx.skip();
    const missing = await json(await app.call("POST", "/v1/search", { topK: 3 }));
    expect(missing).toMatchObject({ status: 400, type: expect.stringContaining("application/problem+json") });
    expect(missing.body.errors[0].field).toBe("body.query");
    const wrongType = await json(await app.call("POST", "/v1/search", { query: "x", topK: "ten" }));
    expect(wrongType.body.errors.map((x: any) => x.field)).toEqual(["body.topK"]);
    const extra = await json(await app.call("POST", "/v1/search", { query: "x", injected: true }));
    expect(extra.status).toBe(400);
    const notJson = await json(await app.call("POST", "/v1/search", "{not json"));
    expect(notJson).toMatchObject({ status: 400, type: expect.stringContaining("problem+json") });
    const huge = await json(await app.call("POST", "/v1/search", { query: "x".repeat(70_000) }));
    expect(huge.status).toBe(413);
    const chatBad = await json(
      await app.call("POST", "/v1/chat", { messages: [{ role: "assistant", content: "hi" }] }),
    );
    expect(chatBad.body.errors[0].field).toBe("body.messages");
    const recsBad = await json(await app.call("GET", "/v1/recommendations?count=500"));
    expect(recsBad.body.errors.map((x: any) => x.field).sort()).toEqual(["query.count", "query.userId"]);
    const noKey = await json(await app.call("POST", "/v1/search", { query: "x" }, { authorization: "" }));
    expect(noKey).toMatchObject({ status: 401, body: { errors: [{ field: "header.authorization" }] } });
    const badKey = await json(await app.call("POST", "/v1/search", { query: "x" }, { authorization: "Bearer nope" }));
    expect(badKey.status).toBe(401);
    expect((await app.call("GET", "/healthz")).status).toBe(200);
  });

  it("limits requests per API key", async (ctx) => {
    if (!e) ctx.skip();
    const limited = { authorization: `Bearer ${SECRETS.limitedKey}` };
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++)
      statuses.push((await app.call("GET", "/v1/recommendations?userId=u-limit&count=1", undefined, limited)).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const other = await app.call("GET", "/v1/recommendations?userId=u-limit&count=1");
    expect(other.status).toBe(200);
  });
});

describe("chat", () => {
  it("answers with numbered citations and recommendations", async (ctx) => {
    if (!e) ctx.skip();
    const { status, body } = await json(
      await app.call("POST", "/v1/chat", {
        messages: [{ role: "user", content: "how do I reset my password token" }],
        userId: "u-chat",
      }),
    );
    expect(status).toBe(200);
    expect(body.citations.map((c: any) => c.n)).toEqual(body.citations.map((_: any, i: number) => i + 1));
    expect(body.citations[0]).toMatchObject({
      id: expect.any(String),
      title: expect.any(String),
      uri: expect.stringMatching(/^oss:/),
      snippet: expect.any(String),
    });
    expect(body.answer).toMatch(/\[1\]\[2\]/);
    expect(body.citations[0].snippet).toMatch(/password|reset|token/);
    expect(chat.stats.lastMessages[0]?.content).toContain(`[1] ${body.citations[0].title}`);
    expect(body.recommendations.length).toBeGreaterThan(0);
    expect(body.recommendations[0]).toMatchObject({ source: "airec", traceId: expect.stringMatching(/^airec-trace-/) });
    const cited = new Set(body.citations.map((c: any) => c.docId));
    expect(body.recommendations.every((r: any) => !cited.has(r.docId))).toBe(true);
  });

  it("streams citations, then tokens, then recommendations, then done", async (ctx) => {
    if (!e) ctx.skip();
    const response = await app.call("POST", "/v1/chat", {
      messages: [{ role: "user", content: "kubernetes pod deployment" }],
      stream: true,
    });
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    const events = sseEvents(await response.text());
    const kinds = events.map((x) => x.event);
    expect(kinds[0]).toBe("citations");
    expect(kinds.slice(1, -2).every((k) => k === "token")).toBe(true);
    expect(kinds.slice(-2)).toEqual(["recommendations", "done"]);
    expect(kinds.filter((k) => k === "token").length).toBe(12);
    expect(events[0]!.data.citations[0].snippet).toMatch(/kubernetes|pod|deployment/);
    expect(events.at(-1)!.data).toEqual({ finishReason: "stop" });
  });

  it("condenses a multi-turn conversation into the retrieval query", async (ctx) => {
    if (!e) ctx.skip();
    const { body } = await json(
      await app.call("POST", "/v1/chat", {
        messages: [
          { role: "user", content: "tell me about invoice billing and refunds" },
          { role: "assistant", content: "Invoices are issued monthly [1]." },
          { role: "user", content: "and how long does it take?" },
        ],
      }),
    );
    expect(body.retrievalQuery).toMatch(/^and how long does it take\? .*invoice/);
    expect(body.citations[0].snippet).toMatch(/invoice|billing|refund/);
    expect(chat.stats.lastMessages.map((m) => m.role)).toEqual(["system", "user", "assistant", "user"]);
  });

  it("reports a generation failure mid-stream with the citations attached, and keeps serving", async (ctx) => {
    if (!e) ctx.skip();
    chat.options.failAfterTokens = 3;
    try {
      const events = sseEvents(
        await (
          await app.call("POST", "/v1/chat", {
            messages: [{ role: "user", content: "network vpc subnet" }],
            stream: true,
          })
        ).text(),
      );
      expect(events.map((x) => x.event)).toEqual([
        "citations",
        "token",
        "token",
        "token",
        "error",
        "recommendations",
        "done",
      ]);
      const error = events[4]!.data;
      expect(error).toMatchObject({ title: "Generation failed", status: 502 });
      expect(error.citations.length).toBeGreaterThan(0);
      expect(events.at(-1)!.data).toEqual({ finishReason: "error" });
      const plain = await json(
        await app.call("POST", "/v1/chat", { messages: [{ role: "user", content: "network vpc subnet" }] }),
      );
      expect(plain).toMatchObject({ status: 502, type: expect.stringContaining("problem+json") });
      expect(plain.body.detail).toMatch(/could not be generated/);
      expect(plain.body.citations.length).toBeGreaterThan(0);
    } finally {
      chat.options.failAfterTokens = undefined;
    }
    expect((await app.call("POST", "/v1/search", { query: "vpc" })).status).toBe(200);
  });
});

describe("recommendations and telemetry", () => {
  it("serves AIRec's items hydrated from the backbone, with their trace ids, over signed requests", async (ctx) => {
    if (!e) ctx.skip();
    const { body } = await json(await app.call("GET", "/v1/recommendations?userId=u-recs&count=4"));
    expect(body.items.slice(0, 2)).toMatchObject([
      { docId: "md/doc-0.md", source: "airec", strategy: "airec", traceId: "airec-trace-0" },
      { docId: "txt/doc-1.txt", source: "airec", traceId: "airec-trace-2" },
    ]);
    expect(body.items).toHaveLength(4);
    expect(body.items.slice(2).every((i: any) => i.source === "backbone" && i.traceId === body.requestId)).toBe(true);
    expect(airec.state.recommendCalls).toBeGreaterThan(0);
    expect(airec.state.refused).toEqual([]);
  });

  it("is refused by AIRec when the signature is made with another secret", async (ctx) => {
    if (!e) ctx.skip();
    const forged = new AirecClient({
      endpoint: airec.endpoint,
      protocol: "http",
      instanceId: "airec-cn-test",
      credential: cloudCredential(
        loadEnvForCredentials({
          ALIBABA_CLOUD_ACCESS_KEY_ID: SECRETS.akId,
          ALIBABA_CLOUD_ACCESS_KEY_SECRET: "wrong-secret",
        }),
      ),
      timeoutMs: 2000,
    });
    await expect(forged.recommend({ userId: "u", sceneId: "home", count: 2 })).rejects.toThrow(/SignatureDoesNotMatch/);
    airec.state.refused.length = 0;
  });

  it("refuses a click without its exposure and sends exposures before clicks to AIRec and the event log", async (ctx) => {
    if (!e) ctx.skip();
    const orphan = await json(
      await app.call("POST", "/v1/events", {
        events: [{ type: "click", userId: "u-ev", queryId: "q-unknown", docId: "md/doc-0.md" }],
      }),
    );
    expect(orphan).toMatchObject({ status: 422, body: { errors: [{ field: "body.events.0.docId" }] } });
    const search = await json(
      await app.call("POST", "/v1/search", { query: "storage bucket lifecycle", userId: "u-ev" }),
    );
    const doc = search.body.results[1];
    const accepted = await json(
      await app.call("POST", "/v1/events", {
        events: [
          { type: "click", userId: "u-ev", queryId: search.body.queryId, docId: doc.docId },
          { type: "feedback", userId: "u-ev", queryId: search.body.queryId, docId: doc.docId, value: "up" },
        ],
      }),
    );
    expect(accepted).toMatchObject({ status: 202, body: { accepted: 2, refused: [] } });
    const mine = () => airec.state.rows.filter((r) => r.fields.user_id === "u-ev");
    expect(await until(() => mine().length >= docsOf(search.body) + 2)).toBe(true);
    const kinds = mine().map((r) => r.fields.bhv_type);
    expect(kinds.indexOf("click")).toBeGreaterThan(kinds.lastIndexOf("expose"));
    expect(mine().find((r) => r.fields.bhv_type === "click")?.fields).toMatchObject({
      item_id: doc.docId,
      trace_id: "Alibaba",
      item_type: "article",
    });
    expect(airec.state.clicksExceededExposures).toBe(false);
    expect(await until(() => eventLog(app.eventDir).some((l) => l.type === "feedback" && l.userId === "u-ev"))).toBe(
      true,
    );
    const lines = eventLog(app.eventDir).filter((l) => l.queryId === search.body.queryId);
    expect(lines[0]).toMatchObject({
      type: "expose",
      query: "storage bucket lifecycle",
      userId: "u-ev",
      docId: search.body.results[0].docId,
      position: 0,
      channel: "search",
    });
    expect(lines.find((l) => l.type === "click")).toMatchObject({ docId: doc.docId, channel: "search" });
  });

  it("falls back to the backbone when AIRec is down, and delivers buffered events once it recovers", async (ctx) => {
    if (!e) ctx.skip();
    // u-ev's click reached the shared engagement index (written from the telemetry buffer).
    const engaged = async () =>
      (await e!.es.count({ index: engagementIndex(ALIAS), query: { term: { userId: "u-ev" } } })).count;
    for (const end = Date.now() + 10_000; (await engaged()) === 0 && Date.now() < end; )
      await new Promise((r) => setTimeout(r, 100));
    airec.state.down = true;
    let search: any;
    try {
      const { status, body } = await json(await app.call("GET", "/v1/recommendations?userId=u-ev&count=5"));
      expect(status).toBe(200);
      expect(body.degraded).toBe(true);
      expect(body.warnings[0].dependency).toBe("airec");
      expect(body.items).toHaveLength(5);
      expect(body.items[0]).toMatchObject({
        source: "backbone",
        strategy: "more-like-engaged",
        traceId: body.requestId,
      });
      search = (
        await json(await app.call("POST", "/v1/search", { query: "training dataset epoch", userId: "u-outage" }))
      ).body;
      await app.call("POST", "/v1/events", {
        events: [
          { type: "citation_open", userId: "u-outage", queryId: search.queryId, docId: search.results[0].docId },
        ],
      });
      await new Promise((r) => setTimeout(r, 600));
      expect(airec.state.rows.some((r) => r.fields.user_id === "u-outage")).toBe(false);
      expect(app.app.telemetry.buffered()).toBeGreaterThan(0);
    } finally {
      airec.state.down = false;
    }
    expect(
      await until(() => airec.state.rows.filter((r) => r.fields.user_id === "u-outage").length === docsOf(search) + 1),
    ).toBe(true);
    expect(airec.state.clicksExceededExposures).toBe(false);
    const metrics = await (await app.call("GET", "/metrics")).text();
    expect(metrics).toMatch(/orchestrator_telemetry_retries_total\{sink="airec"\} [1-9]/);
    expect(metrics).toMatch(/orchestrator_degraded_responses_total\{dependency="airec"\} [1-9]/);
  });

  it("flushes buffered telemetry at shutdown", async (ctx) => {
    if (!e) ctx.skip();
    const other = await startApp({
      ...urls(),
      endpoints,
      chatBaseURL: chat.baseURL,
      airecEndpoint: airec.endpoint,
      env: { TELEMETRY_FLUSH_MS: "600000" },
    });
    const search = await json(
      await other.call("POST", "/v1/search", { query: "chat citation answer", userId: "u-shutdown" }),
    );
    await other.call("POST", "/v1/events", {
      events: [
        { type: "click", userId: "u-shutdown", queryId: search.body.queryId, docId: search.body.results[0].docId },
      ],
    });
    expect(airec.state.rows.some((r) => r.fields.user_id === "u-shutdown")).toBe(false);
    await other.app.shutdown();
    expect(airec.state.rows.filter((r) => r.fields.user_id === "u-shutdown")).toHaveLength(docsOf(search.body) + 1);
    expect(eventLog(other.eventDir).filter((l) => l.userId === "u-shutdown")).toHaveLength(docsOf(search.body) + 1);
  });
});

describe("versioned indices behind the alias", () => {
  it("pins queries to the concrete index, keeps it across a swap, and re-resolves when it is deleted", async (ctx) => {
    if (!e) ctx.skip();
    const base = "orch-pin";
    const seeded = await seedBackbone(e!, models, 12, { base });
    const old = indexNames(base, PROFILE).index;
    const pinned = await startApp({
      ...urls(),
      endpoints,
      chatBaseURL: chat.baseURL,
      env: { INDEX_ALIAS: base, INDEX_PIN_TTL_MS: "600000" },
    });
    try {
      const search = async () => json(await pinned.call("POST", "/v1/search", { query: "invoice refund payment" }));
      const first = await search();
      expect(first.status).toBe(200);
      expect(first.body).toMatchObject({ degraded: false, warnings: [] });
      expect(pinned.app.indices.resolutions).toBe(2);

      // A profile change (96 dims): setup builds the new generation beside the old one, ingestion fills
      // it and swaps the alias. The service's 64-dim vectors must never reach the 96-dim index.
      const next: RelevanceProfile = { ...PROFILE, embedding: { model: PROFILE.embedding.model, dims: 96 } };
      await seedBackbone(e!, models, 12, { base, profile: next, corpusDir: seeded.corpusDir });
      const fresh = indexNames(base, next).index;
      for (const request of [osRequester(e!.os), esRequester(e!.es)])
        expect(await aliasTarget(request, base)).toBe(fresh);

      // Pinned (TTL not over): still the old, complete index, no lookup, same answer.
      const during = await search();
      expect(during.body).toMatchObject({ degraded: false, warnings: [] });
      expect(during.body.results.map((r: any) => r.id)).toEqual(first.body.results.map((r: any) => r.id));
      expect(pinned.app.indices.resolutions).toBe(2);

      // The next run retires the old index: the pinned query meets index_not_found, resolves the alias
      // again and lands on the 96-dim index, where it runs BM25 only (no 64-dim vector is sent) and says so.
      for (const request of [osRequester(e!.os), esRequester(e!.es)])
        expect(await retireIndices(request, base, fresh)).toEqual([old]);
      const after = await search();
      expect(after.status).toBe(200);
      expect(after.body.results.length).toBeGreaterThan(0);
      expect(after.body.degraded).toBe(true);
      expect(after.body.warnings.map((w: any) => w.dependency).sort()).toEqual(["elasticsearch", "opensearch"]);
      for (const w of after.body.warnings) expect(w.message).toContain(`index ${fresh} expects embedding`);
      expect(pinned.app.indices.resolutions).toBe(4);
    } finally {
      await pinned.app.shutdown();
      rmSync(seeded.corpusDir, { recursive: true, force: true });
    }
  });
});

describe("faults", () => {
  it("keeps the fused order and flags it when the reranker is too slow", async (ctx) => {
    if (!e) ctx.skip();
    const slow = await startApp({
      ...urls(),
      endpoints: { ...endpoints, rerank: { ...endpoints.rerank, url: slowModels.rerankUrl } },
      chatBaseURL: chat.baseURL,
      env: { RERANK_TIMEOUT_MS: "300" },
    });
    try {
      const t0 = performance.now();
      const { status, body } = await json(
        await slow.call("POST", "/v1/search", { query: "vector embedding similarity" }),
      );
      const ms = performance.now() - t0;
      expect(status).toBe(200);
      expect(body).toMatchObject({ degraded: true, rerank: "skipped" });
      expect(body.warnings[0]).toMatchObject({ dependency: "rerank" });
      expect(body.results).toHaveLength(PROFILE.topK);
      const fused = body.results.map((r: any) => r.scores.fused);
      expect([...fused].sort((a, b) => b - a)).toEqual(fused);
      expect(ms).toBeLessThan(1200);
    } finally {
      await slow.app.shutdown();
    }
  });

  it("answers from OpenSearch alone, flagged degraded, when the Elasticsearch node is stopped", async (ctx) => {
    if (!e) ctx.skip();
    const env = { ...process.env, ...ENGINE_PORTS };
    execFileSync("bash", [ENGINES_SCRIPT, "stop", "elasticsearch"], { stdio: "inherit", env });
    try {
      const { status, body } = await json(await app.call("POST", "/v1/search", { query: "invoice refund payment" }));
      expect(status).toBe(200);
      expect(body.degraded).toBe(true);
      expect(body.warnings.map((w: any) => w.dependency)).toEqual(["elasticsearch"]);
      expect(body.results).toHaveLength(PROFILE.topK);
      expect(body.results.every((r: any) => r.engines.join() === "opensearch")).toBe(true);
      expect(body.results[0].snippet).toMatch(/invoice|refund|payment/);
      const stream = sseEvents(
        await (
          await app.call("POST", "/v1/chat", { messages: [{ role: "user", content: "invoice" }], stream: true })
        ).text(),
      );
      expect(stream[0]!.data.degraded).toBe(true);
      expect(stream.at(-1)!.event).toBe("done");
      await new Promise((r) => setTimeout(r, 5100));
      const ready = await json(await app.call("GET", "/readyz"));
      expect(ready).toMatchObject({ status: 200, body: { checks: { opensearch: "ok" } } });
      expect(ready.body.checks.elasticsearch).toMatch(/unreachable/);
    } finally {
      if (!e!.startedHere) execFileSync("bash", [ENGINES_SCRIPT, "start", "elasticsearch"], { stdio: "inherit", env });
    }
  });

  it("never writes a secret into a log line", async (ctx) => {
    if (!e) ctx.skip();
    expect(logLines.length).toBeGreaterThan(20);
    for (const [name, secret] of Object.entries(SECRETS)) {
      const leaking = logLines.filter((l) => l.includes(secret));
      expect(leaking, `${name} appears in the log`).toEqual([]);
    }
  });
});
