import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import * as path from "node:path";
import type { RelevanceProfile } from "@search-backbone/relevance";
import { Agent, request } from "undici";
import { esBodies, MGET_FILTER, MSEARCH_FILTER, osBodies, SOURCE_FIELDS } from "../src/retrieval";
import { cpuMs, type Fakes, fakeLag, hasTaskset, healthy, load, pct, pinned, startFakes } from "./processes";
import { serviceEnvAgainstFakes } from "./service-env";

/**
 * Benchmark of the orchestrator's own overhead. Three processes: the service (built: `npm run build`)
 * pinned to core 0; the fakes of fixed latency (bench/fakes-process.ts) and this load generator on
 * core 1 (taskset), so the fakes never share the service's core. Every dependency has a fixed latency,
 * so the lower bound of a request is known:
 *   /v1/search: embedding + the slower engine + rerank;  /v1/chat time to first token: that + first token.
 * Prints p50/p99 at concurrency 1, 32 and 128 beside the bound and the targets (p50 at most 3 ms over
 * the bound; p99 within 10 % of it at 128), how late the fakes' timers fired, then the memory held per
 * 1,000 open SSE streams. /v1/search is measured beside a bare relay (bench/relay.mjs: the same
 * exchanges and payloads, no fusion, validation or logging) on the same core against the same fakes,
 * the two interleaved, twice each; targets: throughput per core at least 50 % of the relay's, p50 at
 * concurrency 1 at most 3 ms over the bound. Usage: npm run build && npm run bench
 *   BENCH_CONCURRENCY=1,32   only these levels;  BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/p"
 *   profiles the service;  BENCH_MEMORY=false skips the SSE memory figure.
 */

const LAT = {
  model: Number(process.env.BENCH_MODEL_MS ?? 20),
  es: Number(process.env.BENCH_ES_MS ?? 15),
  os: Number(process.env.BENCH_OS_MS ?? 25),
  firstToken: Number(process.env.BENCH_FIRST_TOKEN_MS ?? 30),
  // The `_mget` of the rerank window's text (a get by id: a fraction of a search's latency).
  fetch: Number(process.env.BENCH_FETCH_MS ?? 5),
  tokenMs: 5,
  tokens: 20,
  dims: 64,
};
const BOUND_SEARCH = LAT.model + Math.max(LAT.es, LAT.os) + LAT.fetch + LAT.model;
const RELAY_SHARE = 0.5;
const QUERY = "lorem ipsum document";
const BOUND_TTFT = BOUND_SEARCH + LAT.firstToken;
const P50_OVER_MS = 3;
const P99_OVER_SHARE = 0.1;
const KEY = "bench-key-0123456789abcdef0123456789abcdef";
const LEVELS = (process.env.BENCH_CONCURRENCY ?? "1,32,128")
  .split(",")
  .map(Number)
  .filter((n) => n > 0);
const SERVICE_CORE = "0";
const FAKES_CORE = "1";

async function main() {
  if (hasTaskset) spawnSync("taskset", ["-pc", FAKES_CORE, String(process.pid)], { stdio: "ignore" });
  const { child: fakes, urls } = await startFakes(LAT, FAKES_CORE);
  const service = serviceEnvAgainstFakes(urls, { dims: LAT.dims, apiKey: KEY, folderPrefix: "orch-bench-" });
  const env = {
    ...process.env,
    ...service,
    PORT: "18080",
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? "info",
    RATE_LIMIT_PER_MINUTE: "100000000",
    REQUEST_BUDGET_MS: "60000",
    EMBED_TIMEOUT_MS: "30000",
    ENGINE_TIMEOUT_MS: "30000",
    RERANK_TIMEOUT_MS: "30000",
    // This bench measures the overhead, not backpressure (bench/goodput.ts): no call is ever refused.
    ENGINE_MAX_IN_FLIGHT: "100000",
    MODEL_MAX_IN_FLIGHT: "100000",
  };
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? "").split(" ").filter(Boolean);
  const startService = async (port: number, extraArgs: string[] = []) => {
    const [command, args] = pinned(SERVICE_CORE, process.execPath, [
      ...nodeArgs,
      ...extraArgs,
      process.env.BENCH_SERVICE_MAIN ?? path.join(__dirname, "../dist/main.js"),
    ]);
    const child = spawn(command, args, { env: { ...env, PORT: String(port) }, stdio: ["ignore", "ignore", "inherit"] });
    const url = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 100; i++) {
      if (
        await fetch(`${url}/healthz`).then(
          (r) => r.ok,
          () => false,
        )
      )
        break;
      await new Promise((r) => setTimeout(r, 100));
    }
    return { child, url };
  };
  const stopService = async (child: ChildProcess) => {
    child.kill("SIGTERM");
    await new Promise((r) => child.on("exit", r));
  };
  const { child: server, url: base } = await startService(18080);
  const relay = await startRelay(
    urls,
    JSON.parse(readFileSync(service.PROFILE_FILE as string, "utf8")) as RelevanceProfile,
  );
  const headers = { authorization: `Bearer ${KEY}`, "content-type": "application/json" };
  // The load generator's own client: undici's request on a keep-alive pool (cheaper than fetch, so
  // the generator takes as little as it can of the core it shares with the fakes).
  const client = new Agent({ connections: 512, keepAliveTimeout: 60_000 });
  const post = (route: string, body: unknown, to = base) =>
    request(`${to}${route}`, { method: "POST", headers, body: JSON.stringify(body), dispatcher: client });
  const searchOn = (to: string) => async () => {
    const t0 = performance.now();
    const r = await post("/v1/search", { query: QUERY, userId: "bench" }, to);
    const body = (await r.body.json()) as any;
    if (r.statusCode !== 200 || body.degraded) throw new Error(`search failed: ${JSON.stringify(body).slice(0, 300)}`);
    return performance.now() - t0;
  };
  const search = searchOn(base);
  const relaySearch = searchOn(relay.url);
  const ttft = async () => {
    const t0 = performance.now();
    const r = await post("/v1/chat", {
      messages: [{ role: "user", content: "lorem ipsum" }],
      userId: "bench",
      stream: true,
    });
    r.body.setEncoding("utf8");
    let text = "";
    let first = 0;
    for await (const chunk of r.body) {
      text += chunk;
      if (!first && text.includes("event: token")) first = performance.now() - t0;
    }
    if (!first || text.includes('"degraded":true')) throw new Error(`no clean answer: ${text.slice(0, 300)}`);
    return first;
  };

  await load(8, 400, search); // warm-up (JIT, connection pools)
  await load(8, 400, relaySearch);
  await load(8, 100, ttft);
  // Calibration: one bare call from here to a fake (no service in between). Its excess over the fake's
  // latency is what one HTTP hop costs on this machine; a request has three such hops in sequence.
  const bare: number[] = [];
  for (let i = 0; i < 200; i++) {
    const t0 = performance.now();
    const r = await request(urls.embeddingUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ input: ["lorem"], model: "hash" }),
      dispatcher: client,
    });
    await r.body.text();
    bare.push(performance.now() - t0 - LAT.model);
  }
  await fakeLag(fakes);
  await dependencyMeans(base);
  const load1 = loadavg()[0]?.toFixed(2);
  console.log(
    `fixed latencies: embedding ${LAT.model} ms, Elasticsearch ${LAT.es} ms, OpenSearch ${LAT.os} ms, text fetch (_mget) ${LAT.fetch} ms, rerank ${LAT.model} ms, first token ${LAT.firstToken} ms`,
  );
  console.log(
    `service and relay ${hasTaskset ? `pinned to core ${SERVICE_CORE}` : "NOT pinned (no taskset)"} (measured in turn, never at once); fakes and load generator on core ${FAKES_CORE}; load average ${load1} at start`,
  );
  console.log(
    `one bare HTTP hop to a fake costs ${pct(bare, 50).toFixed(1)} ms (p50) over its latency here; four hops in sequence: ~${(4 * pct(bare, 50)).toFixed(1)} ms that no service can avoid`,
  );
  console.log(
    `targets: p50 at most ${P50_OVER_MS} ms over the bound at every concurrency; p99 within ${P99_OVER_SHARE * 100}% of the bound at 128; /v1/search throughput per core at least ${RELAY_SHARE * 100}% of the relay's`,
  );
  console.log("endpoint              conc     n   p50 ms   p99 ms  bound  p50-bound  p99/bound  fake lag p99  target");
  const verdicts: boolean[] = [];
  const perCore: Record<"service" | "relay", number[]> = { service: [], relay: [] };
  let relayP50AtOne: number[] = [];
  for (const concurrency of LEVELS) {
    // Relay and service in turn, twice, so drifts of the shared machine's load hit both alike.
    const runs = [
      ["relay /v1/search", relaySearch, BOUND_SEARCH, relay.child],
      ["/v1/search", search, BOUND_SEARCH, server],
      ["relay /v1/search", relaySearch, BOUND_SEARCH, relay.child],
      ["/v1/search", search, BOUND_SEARCH, server],
      ["/v1/chat first token", ttft, BOUND_TTFT, server],
    ] as const;
    for (const [name, run, bound, child] of runs) {
      const isRelay = child === relay.child;
      const n = concurrency === 1 ? 300 : concurrency * 12;
      const cpu0 = cpuMs(child.pid as number);
      const t0 = performance.now();
      const times = await load(concurrency, n, run);
      const wall = performance.now() - t0;
      const cpu = (cpuMs(child.pid as number) - cpu0) / n;
      const lag = Object.values(await fakeLag(fakes)).flat();
      const deps = await dependencyMeans(base);
      const p50 = pct(times, 50);
      const p99 = pct(times, 99);
      if (concurrency === Math.max(...LEVELS) && run !== ttft) perCore[isRelay ? "relay" : "service"].push(1000 / cpu);
      if (concurrency === 1 && isRelay) relayP50AtOne = [...relayP50AtOne, p50];
      const p50ok = p50 - bound <= P50_OVER_MS;
      const p99ok = concurrency < 128 || p99 <= bound * (1 + P99_OVER_SHARE);
      if (!isRelay) verdicts.push(p50ok && p99ok);
      const verdict = isRelay
        ? "(baseline)"
        : `${p50ok ? "p50 met" : "p50 NOT met"}${concurrency >= 128 ? (p99ok ? ", p99 met" : ", p99 NOT met") : ""}`;
      console.log(
        `${name.padEnd(22)}${String(concurrency).padStart(4)} ${String(n).padStart(5)} ${p50.toFixed(1).padStart(8)} ${p99.toFixed(1).padStart(8)} ${String(bound).padStart(6)} ${`+${(p50 - bound).toFixed(1)}`.padStart(10)} ${`${((p99 / bound - 1) * 100).toFixed(0)}%`.padStart(10)} ${`${pct(lag, 99).toFixed(1)} ms`.padStart(13)}  ${verdict}`,
      );
      console.log(
        `    ${isRelay ? "relay" : "service"} CPU ${cpu.toFixed(2)} ms per request (one core sustains ~${Math.round(1000 / cpu)}/s; this level needs ${Math.round((concurrency * 1000) / bound)}/s at the bound); throughput ${Math.round((n * 1000) / wall)}/s`,
      );
      if (process.env.BENCH_DEPS === "true" && !isRelay)
        console.log(`    mean dependency time seen by the service: ${deps}`);
    }
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  if (perCore.service.length && perCore.relay.length) {
    const share = mean(perCore.service) / mean(perCore.relay);
    verdicts.push(share >= RELAY_SHARE);
    console.log(
      `/v1/search per core at concurrency ${Math.max(...LEVELS)} (1000 / CPU ms per request): service ${perCore.service.map(Math.round).join(", ")}/s, relay ${perCore.relay.map(Math.round).join(", ")}/s: ${(share * 100).toFixed(0)}% of the relay (target at least ${RELAY_SHARE * 100}%: ${share >= RELAY_SHARE ? "met" : "NOT met"})`,
    );
  }
  if (relayP50AtOne.length)
    console.log(
      `relay p50 at concurrency 1: ${relayP50AtOne.map((p) => `+${(p - BOUND_SEARCH).toFixed(1)}`).join(", ")} ms over the bound (what the exchanges alone cost here)`,
    );
  console.log(
    `load average ${loadavg()[0]?.toFixed(2)} at the end; targets met: ${verdicts.filter(Boolean).length}/${verdicts.length}`,
  );

  relay.child.kill("SIGTERM");
  await stopService(server);
  if (process.env.BENCH_MEMORY !== "false") {
    // A fresh service for the memory figure: a small heap, so garbage collection moves the figures less.
    const fresh = await startService(18081, ["--expose-gc", "-r", path.join(__dirname, "gc-on-signal.cjs")]);
    await memory(fresh.child, fakes, fresh.url, headers);
    await stopService(fresh.child);
  }
  fakes.disconnect();
}

/** The bare relay (bench/relay.mjs) on the service's core, with the service's rendered request bodies. */
async function startRelay(urls: Fakes, profile: RelevanceProfile) {
  const vector = new Array(LAT.dims).fill(0);
  const config = {
    port: 18090,
    embeddingUrl: urls.embeddingUrl,
    rerankUrl: urls.rerankUrl,
    es: urls.es,
    os: urls.os,
    index: "chunks-v1",
    embeddingModel: profile.embedding.model,
    rerankWindow: profile.rerankWindow,
    topK: profile.topK,
    esBodies: esBodies(profile, QUERY, vector, []).filter(Boolean),
    osBodies: osBodies(profile, QUERY, vector, []).filter(Boolean),
    msearchFilter: MSEARCH_FILTER,
    mgetFilter: MGET_FILTER,
    sourceFields: SOURCE_FIELDS.join(","),
  };
  const [command, args] = pinned(SERVICE_CORE, process.execPath, [
    path.join(__dirname, "relay.mjs"),
    JSON.stringify(config),
  ]);
  const child = spawn(command, args, { stdio: ["ignore", "ignore", "inherit"] });
  const url = `http://127.0.0.1:${config.port}`;
  await healthy(url);
  return { child, url };
}

/** Mean time per dependency call since the previous call, from the service's own histogram. */
let previousDeps = new Map<string, { sum: number; count: number }>();
async function dependencyMeans(base: string): Promise<string> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const now = new Map<string, { sum: number; count: number }>();
  for (const m of text.matchAll(
    /^orchestrator_dependency_duration_seconds_(sum|count)\{dependency="([^"]+)",outcome="ok"\} (\S+)/gm,
  )) {
    const entry = now.get(m[2] as string) ?? { sum: 0, count: 0 };
    entry[m[1] as "sum" | "count"] = Number(m[3]);
    now.set(m[2] as string, entry);
  }
  const parts = [...now].map(([dependency, { sum, count }]) => {
    const before = previousDeps.get(dependency) ?? { sum: 0, count: 0 };
    return `${dependency} ${(((sum - before.sum) / Math.max(1, count - before.count)) * 1000).toFixed(1)} ms`;
  });
  previousDeps = now;
  return parts.join(", ");
}

/** Memory per 1,000 open SSE streams: the chat fake holds the first token back, so every stream stays open. */
async function memory(server: ChildProcess, fakes: ChildProcess, base: string, headers: Record<string, string>) {
  const rss = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${server.pid}/status`, "utf8"))?.[1]) * 1024;
  const collect = async () => {
    server.kill("SIGUSR2");
    await new Promise((r) => setTimeout(r, 500));
  };
  const metric = async (name: string) =>
    Number(new RegExp(`^${name} (\\S+)`, "m").exec(await (await fetch(`${base}/metrics`)).text())?.[1]);
  for (let i = 0; i < 50; i++) {
    const r = await fetch(`${base}/v1/chat`, {
      method: "POST",
      headers,
      body: JSON.stringify({ messages: [{ role: "user", content: "warm up" }], stream: true }),
    });
    await r.text();
  }
  fakes.send({ type: "firstTokenMs", firstTokenMs: 600_000 });
  await collect();
  const beforeRss = rss();
  const beforeHeap = await metric("nodejs_heap_size_used_bytes");
  const beforeExternal = await metric("nodejs_external_memory_bytes");
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
        await r.body!.getReader().read(); // the citations event: the stream is open
      }),
    );
    if (i % 100 === 99) await Promise.all(opened.slice(i - 99, i + 1));
  }
  await Promise.all(opened);
  const open = await metric("orchestrator_open_sse_streams");
  await collect();
  const afterRss = rss();
  const afterHeap = await metric("nodejs_heap_size_used_bytes");
  const afterExternal = await metric("nodejs_external_memory_bytes");
  console.log(
    `open SSE streams: ${open}; memory held per 1,000 streams (after a full GC): RSS +${((afterRss - beforeRss) / 1e6).toFixed(1)} MB, JS heap +${((afterHeap - beforeHeap) / 1e6).toFixed(1)} MB, external +${((afterExternal - beforeExternal) / 1e6).toFixed(1)} MB (RSS ${(afterRss / 1e6).toFixed(0)} MB in total)`,
  );
  for (const c of controllers) c.abort();
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
