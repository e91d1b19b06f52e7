import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { elasticsearchClient, openSearchClient } from "@search-backbone/engines";
import {
  DEFAULT_PROFILE,
  indexNames,
  ModelClient,
  type ModelEndpoints,
  type RelevanceProfile,
} from "@search-backbone/relevance";
import { corpusDocuments, corpusQueries, writeCorpus } from "@search-backbone/test-engines";
import { ingest } from "search-backbone-jobs/ingest/ingest";
import { FolderSource } from "search-backbone-jobs/ingest/source";
import { esStore, osStore, type Store } from "search-backbone-jobs/ingest/stores";
import { esHybrid, osHybrid } from "search-backbone-jobs/search";
import { runSetup } from "search-backbone-jobs/setup/index";

/**
 * Ingestion throughput into both real engines against an embedding endpoint with a fixed latency per
 * call and a maximum batch size, beside the bound that endpoint imposes (batch x concurrency /
 * latency); then p50/p99 of the hybrid query on each engine. Run through scripts/bench-search.sh.
 */

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
/**
 * Two endpoints: the default one (1000 ms per call, 32 texts, 2 in flight: 64 chunks/s) is slower
 * than what both engines absorb on a 2-core machine, so it measures whether ingestion keeps the
 * endpoint busy; the fast one (BENCH_FAST_*) shows the engines' own ceiling here.
 */
const LATENCY_MS = env("BENCH_LATENCY_MS", 1000);
const BATCH = env("BENCH_BATCH", 32);
const CONCURRENCY = env("BENCH_CONCURRENCY", 2);
const FAST = {
  latencyMs: env("BENCH_FAST_LATENCY_MS", 100),
  batch: env("BENCH_FAST_BATCH", 32),
  concurrency: env("BENCH_FAST_CONCURRENCY", 4),
};
const DOCS = env("BENCH_DOCS", 400);
const DIMS = env("BENCH_DIMS", 384);
const QUERIES = env("BENCH_QUERIES", 200);
const BASE = "bench-chunks";

const profile: RelevanceProfile = {
  ...DEFAULT_PROFILE,
  embedding: { model: "hash-embedder", dims: DIMS },
  rerank: { model: "overlap-reranker" },
};

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

async function clean(stores: Store[]) {
  for (const store of stores) {
    const found = await store.request<any>("list", "GET", `/_resolve/index/${BASE}*?allow_no_indices=true`);
    for (const alias of found.aliases ?? []) {
      for (const index of alias.indices) await store.request("unalias", "DELETE", `/${index}/_alias/${alias.name}`);
    }
    for (const index of found.indices ?? []) await store.request("delete", "DELETE", `/${index.name}`);
  }
}

interface RemoteModelServer {
  readonly url: string;
  embeddingUrl(dims: number): string;
  readonly rerankUrl: string;
  setLatency(ms: number): Promise<void>;
  stats(): Promise<{ embedCalls: number; firstEmbedAt: number; lastEmbedAt: number; maxInFlight: number }>;
  close(): Promise<void>;
}

/** The endpoint fake in a process of its own, as a real endpoint would be. */
async function startRemoteModelServer(maxBatch: number): Promise<RemoteModelServer> {
  const child: ChildProcess = spawn(
    process.execPath,
    [require.resolve("@search-backbone/test-engines/model-server"), String(maxBatch)],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.once("data", (data: Buffer) => resolve(data.toString().trim()));
    child.once("exit", (code) => reject(new Error(`model server exited with ${code}`)));
  });
  return {
    url,
    embeddingUrl: (dims) => `${url}/d/${dims}/v1/embeddings`,
    rerankUrl: `${url}/v1/rerank`,
    async setLatency(ms) {
      await fetch(`${url}/admin/latency`, { method: "POST", body: JSON.stringify({ ms }) });
    },
    stats: async () => (await fetch(`${url}/admin/stats`, { method: "POST", body: "{}" })).json() as any,
    close: async () => {
      child.kill("SIGTERM");
    },
  };
}

interface Endpoint {
  readonly latencyMs: number;
  readonly batch: number;
  readonly concurrency: number;
}

async function ingestRun(
  engines: { es: ReturnType<typeof elasticsearchClient>; os: ReturnType<typeof openSearchClient> },
  stores: [Store, Store],
  server: RemoteModelServer,
  dir: string,
  endpoint: Endpoint,
): Promise<ModelClient> {
  await server.setLatency(endpoint.latencyMs);
  const endpoints: ModelEndpoints = {
    embedding: {
      url: server.embeddingUrl(DIMS),
      model: profile.embedding.model,
      protocol: "contract",
      dims: DIMS,
      authSecret: null,
    },
    rerank: { url: server.rerankUrl, model: profile.rerank.model, protocol: "contract", dims: null, authSecret: null },
  };
  const models = new ModelClient({ endpoints, maxBatch: endpoint.batch, concurrency: endpoint.concurrency });
  await clean(stores);
  await runSetup(engines, models, { base: BASE, profile, endpoints });
  await server.setLatency(endpoint.latencyMs); // also resets the endpoint's counters after setup's calls
  const callsBefore = models.calls;
  const report = await ingest(new FolderSource(dir), stores, models, {
    base: BASE,
    profile,
    prefix: "raw/",
    defaultAccess: "public",
    chunking: { maxChars: 400, overlapChars: 60 },
    ...(process.env.BENCH_VERBOSE
      ? { log: (line: string) => console.log(`${(performance.now() / 1000).toFixed(2)} ${line}`) }
      : {}),
  });
  const calls = models.calls - callsBefore;
  const stats = await server.stats();
  const busySpan = (stats.lastEmbedAt - stats.firstEmbedAt) / 1000;
  const busyIdeal = (Math.ceil(calls / endpoint.concurrency) * endpoint.latencyMs) / 1000;
  const bound = (endpoint.batch * endpoint.concurrency) / (endpoint.latencyMs / 1000);
  const chunksPerDoc = report.chunks / report.ingested;
  console.log(
    `\nembedding endpoint: ${endpoint.latencyMs} ms per call, at most ${endpoint.batch} texts per call; ${endpoint.concurrency} calls in flight`,
  );
  console.log(
    `corpus: ${report.ingested} documents, ${report.chunks} chunks (${chunksPerDoc.toFixed(2)} per document), ${DIMS} dims, ${calls} embedding calls; ${report.seconds.toFixed(2)} s into both engines`,
  );
  console.log(
    `  chunks/s    ${report.chunksPerSecond.toFixed(1).padStart(8)}   bound ${bound.toFixed(1).padStart(8)}   ${((100 * report.chunksPerSecond) / bound).toFixed(1)}% of the bound (target >= 90%)`,
  );
  console.log(
    `  documents/s ${report.docsPerSecond.toFixed(1).padStart(8)}   bound ${(bound / chunksPerDoc).toFixed(1).padStart(8)}   (bound / chunks per document)`,
  );
  console.log(
    `  endpoint: first call to last answer ${busySpan.toFixed(2)} s for ${calls} calls (${busyIdeal.toFixed(2)} s if never idle, ${((100 * busyIdeal) / busySpan).toFixed(1)}% busy); ${(report.seconds - busySpan).toFixed(2)} s of the run outside that span (state, listing, last write, refresh)`,
  );
  return models;
}

async function main() {
  const es = elasticsearchClient({ url: process.env.ELASTICSEARCH_URL ?? "http://127.0.0.1:9260" });
  const os = openSearchClient({ url: process.env.OPENSEARCH_URL ?? "http://127.0.0.1:9250" });
  const server = await startRemoteModelServer(Math.max(BATCH, FAST.batch));
  const stores: [Store, Store] = [esStore(es), osStore(os)];
  const dir = mkdtempSync(path.join(tmpdir(), "search-bench-"));
  try {
    writeCorpus(
      dir,
      corpusDocuments(DOCS, 99).filter((d) => !/broken|pptx/.test(d.key)),
    );
    await ingestRun({ es, os }, stores, server, dir, { latencyMs: LATENCY_MS, batch: BATCH, concurrency: CONCURRENCY });
    const models = await ingestRun({ es, os }, stores, server, dir, FAST);

    // Query latency: the endpoint answers at once now, so figures are the engines' (plus one rerank round trip).
    await server.setLatency(0);
    const names = indexNames(BASE, profile);
    const queries = corpusQueries(QUERIES, 5);
    const vectors = await models.embed(queries);
    const labels = [
      "elasticsearch: BM25 + kNN, fusion module, rerank",
      "opensearch: hybrid query, search pipeline with rerank",
    ];
    const timings: number[][] = [[], []];
    for (let round = 0; round < 2; round++) {
      for (const [i, text] of queries.entries()) {
        const t0 = performance.now();
        await esHybrid(es, models, names.alias, profile, text, vectors[i]!);
        const t1 = performance.now();
        await osHybrid(os, names.alias, names.searchPipeline, profile, text, vectors[i]!, "rerank");
        const t2 = performance.now();
        // The first round warms caches; only the second is reported.
        if (round === 1) {
          timings[0]!.push(t1 - t0);
          timings[1]!.push(t2 - t1);
        }
      }
    }
    console.log(
      `\nhybrid query over ${DOCS} documents, ${QUERIES} queries, depth ${profile.candidateDepth}, rerank window ${profile.rerankWindow}, top ${profile.topK}:`,
    );
    labels.forEach((label, i) => {
      console.log(
        `  ${label}: p50 ${percentile(timings[i]!, 50).toFixed(1)} ms, p99 ${percentile(timings[i]!, 99).toFixed(1)} ms`,
      );
    });
  } finally {
    await clean(stores);
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
