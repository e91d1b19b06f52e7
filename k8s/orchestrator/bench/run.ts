import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { startModelServer } from "../../../test/search-engines/model-server";
import { hashKey } from "../src/auth";
import { startDashScope } from "../test/fakes/dashscope";
import { startFakeEngine } from "./fake-engines";

/**
 * Benchmark of the orchestrator's own overhead. The service (built: `npm run build`) runs in a child
 * process pinned to one core (taskset); the fakes and the load generator run in this process. Every
 * dependency has a fixed latency, so the lower bound of a request is known:
 *   /v1/search: embedding + the slower engine + rerank;  /v1/chat first token: that + first token.
 * Prints p50/p99 at concurrency 1, 32 and 128 beside the bound, then the memory held per 1,000 open
 * SSE streams. Usage: npm run build && npm run bench
 */

const LAT = {
  model: Number(process.env.BENCH_MODEL_MS ?? 20),
  es: Number(process.env.BENCH_ES_MS ?? 15),
  os: Number(process.env.BENCH_OS_MS ?? 25),
  firstToken: Number(process.env.BENCH_FIRST_TOKEN_MS ?? 30),
};
const BOUND_SEARCH = LAT.model + Math.max(LAT.es, LAT.os) + LAT.model;
const BOUND_TTFT = BOUND_SEARCH + LAT.firstToken;
const KEY = "bench-key-0123456789abcdef0123456789abcdef";

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] as number;
};

async function load(concurrency: number, total: number, one: () => Promise<number>): Promise<number[]> {
  const times: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < total) times.push(await one());
    }),
  );
  return times;
}

async function main() {
  const models = await startModelServer({ latencyMs: LAT.model });
  const es = await startFakeEngine("elasticsearch", LAT.es);
  const os = await startFakeEngine("opensearch", LAT.os);
  const chat = await startDashScope({ apiKey: "sk-bench", firstTokenMs: LAT.firstToken, tokenMs: 5, tokens: 20 });
  const dir = mkdtempSync(path.join(tmpdir(), "orch-bench-"));
  const file = (name: string, value: unknown) => {
    writeFileSync(path.join(dir, name), JSON.stringify(value));
    return path.join(dir, name);
  };
  const profile = {
    embedding: { model: "hash", dims: 64 },
    rerank: { model: "overlap" },
    similarity: "cosine",
    bm25Weight: 0.3,
    vectorWeight: 0.7,
    candidateDepth: 50,
    rerankWindow: 20,
    topK: 8,
    analyzer: "standard",
  };
  const env = {
    ...process.env,
    PORT: "18080",
    HOST: "127.0.0.1",
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? "info",
    PROFILE_FILE: file("profile.json", profile),
    ENDPOINTS_FILE: file("endpoints.json", {
      embedding: { url: models.embeddingUrl(64), model: "hash", dims: 64 },
      rerank: { url: models.rerankUrl, model: "overlap" },
    }),
    API_KEYS_FILE: file("keys.json", [{ id: "bench", sha256: hashKey(KEY) }]),
    RATE_LIMIT_PER_MINUTE: "100000000",
    INDEX_ALIAS: "chunks",
    ELASTICSEARCH_URL: es.url,
    OPENSEARCH_URL: os.url,
    DASHSCOPE_BASE_URL: chat.baseURL,
    DASHSCOPE_API_KEY: "sk-bench",
    CHAT_MODEL: "qwen-plus",
    EVENT_LOG_FOLDER: path.join(dir, "events"),
    REQUEST_BUDGET_MS: "60000",
    EMBED_TIMEOUT_MS: "30000",
    ENGINE_TIMEOUT_MS: "30000",
    RERANK_TIMEOUT_MS: "30000",
  };
  const nodeBin = process.execPath;
  const server = spawn("taskset", ["-c", "0", nodeBin, path.join(__dirname, "../dist/orchestrator/src/main.js")], {
    env,
    stdio: ["ignore", "ignore", "inherit"],
  });
  const base = "http://127.0.0.1:18080";
  for (let i = 0; i < 100; i++) {
    if (
      await fetch(`${base}/healthz`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const headers = { authorization: `Bearer ${KEY}`, "content-type": "application/json" };
  const search = async () => {
    const t0 = performance.now();
    const r = await fetch(`${base}/v1/search`, {
      method: "POST",
      headers,
      body: JSON.stringify({ query: "lorem ipsum document", userId: "bench" }),
    });
    const body = (await r.json()) as any;
    if (!r.ok || body.degraded) throw new Error(`search failed: ${JSON.stringify(body).slice(0, 300)}`);
    return performance.now() - t0;
  };
  const ttft = async () => {
    const t0 = performance.now();
    const r = await fetch(`${base}/v1/chat`, {
      method: "POST",
      headers,
      body: JSON.stringify({ messages: [{ role: "user", content: "lorem ipsum" }], stream: true }),
    });
    const reader = r.body!.getReader();
    const decoder = new TextDecoder();
    let text = "";
    let first = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
      if (!first && text.includes("event: token")) first = performance.now() - t0;
    }
    if (!first) throw new Error(`no token: ${text.slice(0, 300)}`);
    return first;
  };

  await load(8, 200, search); // warm-up (JIT, connection pools)
  await load(8, 50, ttft);
  console.log(
    `fixed latencies: embedding ${LAT.model} ms, Elasticsearch ${LAT.es} ms, OpenSearch ${LAT.os} ms, rerank ${LAT.model} ms, first token ${LAT.firstToken} ms; server pinned to one core`,
  );
  console.log("endpoint              conc   n      p50 ms   p99 ms   bound ms  p50 over  p99/bound");
  for (const concurrency of [1, 32, 128]) {
    for (const [name, run, bound] of [
      ["/v1/search", search, BOUND_SEARCH],
      ["/v1/chat first token", ttft, BOUND_TTFT],
    ] as const) {
      const n = concurrency === 1 ? 200 : concurrency * 8;
      const times = await load(concurrency, n, run);
      const p50 = pct(times, 50);
      const p99 = pct(times, 99);
      console.log(
        `${name.padEnd(22)}${String(concurrency).padStart(4)} ${String(n).padStart(5)} ${p50.toFixed(1).padStart(9)} ${p99.toFixed(1).padStart(8)} ${String(bound).padStart(9)} ${(p50 - bound).toFixed(1).padStart(8)}  ${((p99 / bound - 1) * 100).toFixed(0).padStart(6)}%`,
      );
    }
  }

  // Memory per 1,000 open SSE streams: the chat fake holds the first token back, so every stream stays open.
  const rss = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${server.pid}/status`, "utf8"))?.[1]) * 1024;
  const heap = async () =>
    Number(/^nodejs_heap_size_used_bytes (\S+)/m.exec(await (await fetch(`${base}/metrics`)).text())?.[1]);
  chat.options.firstTokenMs = 600_000;
  const beforeRss = rss();
  const beforeHeap = await heap();
  const controllers: AbortController[] = [];
  const opened: Promise<void>[] = [];
  for (let i = 0; i < 1000; i++) {
    const c = new AbortController();
    controllers.push(c);
    opened.push(
      fetch(`${base}/v1/chat`, {
        method: "POST",
        headers,
        body: JSON.stringify({ messages: [{ role: "user", content: `lorem ${i}` }], stream: true }),
        signal: c.signal,
      }).then(async (r) => {
        const reader = r.body!.getReader();
        await reader.read(); // the citations event: the stream is open
      }),
    );
    if (i % 100 === 99) await Promise.all(opened.slice(i - 99, i + 1));
  }
  await Promise.all(opened);
  const open = Number(/^orchestrator_open_sse_streams (\S+)/m.exec(await (await fetch(`${base}/metrics`)).text())?.[1]);
  const afterRss = rss();
  const afterHeap = await heap();
  console.log(
    `open SSE streams: ${open}; memory held per 1,000 streams: RSS +${((afterRss - beforeRss) / 1e6).toFixed(1)} MB, JS heap +${((afterHeap - beforeHeap) / 1e6).toFixed(1)} MB (RSS ${(afterRss / 1e6).toFixed(0)} MB in total)`,
  );
  for (const c of controllers) c.abort();
  server.kill("SIGTERM");
  await new Promise((r) => server.on("exit", r));
  await Promise.all([models.close(), es.close(), os.close(), chat.close()]);
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
