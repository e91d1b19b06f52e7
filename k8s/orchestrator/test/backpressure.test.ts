import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Lag, startFakeEngine, startFakeModels } from "../bench/fake-engines";
import { createApp } from "../src/app";
import { loadConfig } from "../src/config";
import { hashKey } from "../src/plugins/auth";

/**
 * The service against the benchmark's fakes (fixed latency, canned hits): a full search through the
 * multi-search of ids and the one multi-get of the rerank window's text, and the 503 + Retry-After
 * of a dependency at capacity. The same search against real engines is in orchestrator.engines.test.ts.
 */

const KEY = "backpressure-key-0123456789abcdef0123456789";
const DIMS = 8;
type Fake = { url: string; close: () => Promise<void> };
const fakes: Fake[] = [];
let app: Awaited<ReturnType<typeof createApp>>;
let esRequests = 0;

beforeAll(async () => {
  const lag = new Lag();
  const models = await startFakeModels(5, lag, DIMS);
  const es = await startFakeEngine("elasticsearch", 60, lag, DIMS, { fetchMs: 5 });
  const os = await startFakeEngine("opensearch", 5, lag, DIMS, { fetchMs: 5 });
  es.server.on("request", () => esRequests++);
  fakes.push(models, es, os);
  const dir = mkdtempSync(path.join(tmpdir(), "orch-backpressure-"));
  const file = (name: string, value: unknown) => {
    writeFileSync(path.join(dir, name), JSON.stringify(value));
    return path.join(dir, name);
  };
  const config = loadConfig({
    PROFILE_FILE: file("profile.json", {
      embedding: { model: "hash", dims: DIMS },
      rerank: { model: "overlap" },
      similarity: "cosine",
      bm25Weight: 0.3,
      vectorWeight: 0.7,
      candidateDepth: 50,
      rerankWindow: 20,
      topK: 8,
      analyzer: "standard",
    }),
    ENDPOINTS_FILE: file("endpoints.json", {
      embedding: { url: models.embeddingUrl, model: "hash", protocol: "contract", dims: DIMS, authSecret: null },
      rerank: { url: models.rerankUrl, model: "overlap", protocol: "contract", dims: null, authSecret: null },
    }),
    API_KEYS_FILE: file("keys.json", [{ id: "test", sha256: hashKey(KEY) }]),
    INDEX_ALIAS: "chunks",
    ELASTICSEARCH_URL: es.url,
    OPENSEARCH_URL: os.url,
    DASHSCOPE_BASE_URL: "http://127.0.0.1:9/compatible-mode/v1",
    DASHSCOPE_API_KEY: "sk-test",
    CHAT_MODEL: "qwen-plus",
    EVENT_LOG_FOLDER: path.join(dir, "events"),
    LOG_LEVEL: "silent",
    ENGINE_MAX_IN_FLIGHT: "1",
    DEPENDENCY_QUEUE_LENGTH: "0",
  });
  app = await createApp(config);
});

afterAll(async () => {
  await app?.shutdown();
  await Promise.all(fakes.map((f) => f.close()));
});

const search = () =>
  app.server.inject({
    method: "POST",
    url: "/v1/search",
    headers: { authorization: `Bearer ${KEY}` },
    payload: { query: "lorem ipsum" },
  });

describe("search against fixed-latency fakes", () => {
  it("answers with each result's text, fetched once for the rerank window", async () => {
    const before = esRequests;
    const response = await search();
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body).toMatchObject({ degraded: false, rerank: "applied", warnings: [] });
    expect(body.results).toHaveLength(8);
    for (const r of body.results) {
      expect(r.title).toBe(`doc ${r.id.slice("chunk-".length)}`);
      expect(r.snippet).toMatch(/^document \d+ lorem ipsum/);
      expect(r.uri).toMatch(/^raw\/doc-\d+\.md$/);
      expect(r.engines).toContain("elasticsearch");
    }
    // The alias resolution (first request only), one multi-search and one multi-get.
    expect(esRequests - before).toBeLessThanOrEqual(3);
  });

  it("refuses at once with 503, Retry-After and problem+json when an engine has no free slot", async () => {
    const responses = await Promise.all([search(), search(), search()]);
    const statuses = responses.map((r) => r.statusCode).sort();
    expect(statuses).toEqual([200, 503, 503]);
    for (const refused of responses.filter((r) => r.statusCode === 503)) {
      expect(refused.headers["retry-after"]).toBe("1");
      expect(refused.headers["content-type"]).toMatch(/^application\/problem\+json/);
      expect(refused.json()).toMatchObject({ title: "Overloaded", status: 503, dependency: "elasticsearch" });
    }
    const metrics = (await app.server.inject({ method: "GET", url: "/metrics" })).body;
    expect(metrics).toMatch(
      /orchestrator_dependency_refusals_total\{dependency="elasticsearch",reason="queue_full"\} 2/,
    );
    expect(metrics).toMatch(/orchestrator_dependency_queued_calls\{dependency="elasticsearch"\} 0/);
    expect(metrics).toMatch(/orchestrator_dependency_in_flight_calls\{dependency="opensearch"\} 0/);
  });
});
