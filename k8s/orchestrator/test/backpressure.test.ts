import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Lag, startFakeEngine, startFakeModels } from "../bench/fake-engines";
import { serviceEnvAgainstFakes } from "../bench/service-env";
import { createApp } from "../src/app";
import { loadConfig } from "../src/config";

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
let rerankRequests = 0;
let config: ReturnType<typeof loadConfig>;

beforeAll(async () => {
  const lag = new Lag();
  const models = await startFakeModels(5, lag, DIMS);
  const es = await startFakeEngine("elasticsearch", 60, lag, DIMS, { fetchMs: 5 });
  const os = await startFakeEngine("opensearch", 5, lag, DIMS, { fetchMs: 5 });
  es.server.on("request", () => esRequests++);
  models.server.on("request", (req) => req.url === "/v1/rerank" && rerankRequests++);
  fakes.push(models, es, os);
  config = loadConfig({
    ...serviceEnvAgainstFakes(
      {
        embeddingUrl: models.embeddingUrl,
        rerankUrl: models.rerankUrl,
        es: es.url,
        os: os.url,
        chat: "http://127.0.0.1:9/compatible-mode/v1",
      },
      { dims: DIMS, apiKey: KEY, folderPrefix: "orch-backpressure-" },
    ),
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
  it("with RERANK_ENABLED=false keeps the fused order, calls no reranker and says so, not degraded", async () => {
    const off = await createApp({ ...config, RERANK_ENABLED: false });
    try {
      const before = rerankRequests;
      const response = await off.server.inject({
        method: "POST",
        url: "/v1/search",
        headers: { authorization: `Bearer ${KEY}` },
        payload: { query: "lorem ipsum" },
      });
      expect(response.statusCode).toBe(200);
      const body = response.json();
      expect(body).toMatchObject({ degraded: false, rerank: "off", warnings: [] });
      expect(body.results.length).toBeGreaterThan(0);
      for (const r of body.results) expect(r.scores.rerank).toBeUndefined();
      expect(rerankRequests - before).toBe(0);
      const fused = body.results.map((r: { scores: { fused: number } }) => r.scores.fused);
      expect([...fused].sort((a, b) => b - a)).toEqual(fused);
      await search(); // the default reranks
      expect(rerankRequests - before).toBe(1);
    } finally {
      await off.shutdown();
    }
  });

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
