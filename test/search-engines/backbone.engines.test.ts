import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { EngineError } from "@search-backbone/engines";
import {
  indexNames,
  kendallTau,
  ModelClient,
  overlapAtK,
  ProfileError,
  type RelevanceProfile,
} from "@search-backbone/relevance";
import {
  acquireEngines,
  corpusDocuments,
  corpusQueries,
  type Engines,
  type ModelServer,
  startModelServer,
  stopEngines,
  writeCorpus,
} from "@search-backbone/test-engines";
import { ingest } from "search-backbone-jobs/ingest/ingest";
import { FolderSource } from "search-backbone-jobs/ingest/source";
import { esStore, osStore, type Store } from "search-backbone-jobs/ingest/stores";
import { esFused, esHybrid, osHybrid } from "search-backbone-jobs/search";
import { aliasTarget, indexExists } from "search-backbone-jobs/setup/aliases";
import { runSetup } from "search-backbone-jobs/setup/index";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { contractModels } from "./contract-models";

/**
 * The backbone against real nodes: OpenSearch 3.6 and Elasticsearch 8.17 on loopback, a local model
 * server implementing the model-endpoint contract. One shared corpus and index, so the tests run in
 * order and build on each other.
 */

const BASE = "it-chunks";
const DIMS = 64;
const PROFILE: RelevanceProfile = {
  embedding: { model: "hash-embedder", dims: DIMS },
  rerank: { model: "overlap-reranker" },
  similarity: "cosine",
  bm25Weight: 0.3,
  vectorWeight: 0.7,
  candidateDepth: 50,
  rerankWindow: 20,
  topK: 10,
  analyzer: "standard",
};

let engines: Engines | undefined;
let models: ModelServer;
let corpusDir: string;
let stores: [Store, Store];
const suiteStarted = performance.now();

const { endpointsFor, clientFor } = contractModels(() => models);

async function cleanEngines() {
  for (const request of stores.map((s) => s.request)) {
    const found = await request<any>("list", "GET", `/_resolve/index/${BASE}*`);
    for (const alias of found.aliases ?? []) {
      for (const index of alias.indices) await request("unalias", "DELETE", `/${index}/_alias/${alias.name}`);
    }
    for (const index of found.indices ?? []) await request("delete", "DELETE", `/${index.name}`);
  }
}

beforeAll(async () => {
  engines = await acquireEngines();
  if (!engines) return;
  console.log(`engines ready in ${engines.startSeconds.toFixed(1)} s (started here: ${engines.startedHere})`);
  models = await startModelServer({ maxBatch: 64 });
  stores = [esStore(engines.es), osStore(engines.os)];
  await cleanEngines();
  corpusDir = mkdtempSync(path.join(tmpdir(), "backbone-corpus-"));
  writeCorpus(corpusDir, corpusDocuments(80));
});

afterAll(async () => {
  await models?.close();
  if (corpusDir) rmSync(corpusDir, { recursive: true, force: true });
  if (engines?.startedHere) stopEngines();
  console.log(`search engine suite: ${((performance.now() - suiteStarted) / 1000).toFixed(1)} s in total`);
});

/** All chunk documents of an index: id -> source (with the vector), read with search_after. */
async function allChunks(store: Store, index: string): Promise<Map<string, any>> {
  const out = new Map<string, any>();
  let after: unknown[] | undefined;
  for (;;) {
    const page = await store.request<any>("read", "POST", `/${index}/_search`, {
      size: 500,
      sort: [{ source_key: "asc" }, { chunk_no: "asc" }],
      ...(after ? { search_after: after } : {}),
    });
    for (const h of page.hits.hits) out.set(h._id, h._source);
    if (page.hits.hits.length < 500) return out;
    after = page.hits.hits.at(-1).sort;
  }
}

describe("setup against real engines", () => {
  it("refuses a profile whose dims differ from the endpoint's before applying anything", async (ctx) => {
    if (!engines) ctx.skip();
    const endpoints = endpointsFor(PROFILE);
    const wrong = { ...endpoints, embedding: { ...endpoints.embedding, dims: 128 } };
    const run = runSetup(engines!, clientFor(PROFILE), { base: BASE, profile: PROFILE, endpoints: wrong });
    await expect(run).rejects.toThrow(ProfileError);
    await expect(run).rejects.toThrow(
      "embedding.dims: given 64; expected the dimension the embedding endpoint serves (128",
    );
    for (const store of stores) expect(await indexExists(store.request, indexNames(BASE, PROFILE).index)).toBe(false);
  });

  it("refuses an endpoint that serves other dims than it declares, before applying anything", async (ctx) => {
    if (!engines) ctx.skip();
    const endpoints = endpointsFor(PROFILE);
    const lying = { ...endpoints, embedding: { ...endpoints.embedding, url: models.embeddingUrl(128) } };
    const models64 = new ModelClient({ endpoints: lying });
    await expect(runSetup(engines!, models64, { base: BASE, profile: PROFILE, endpoints: lying })).rejects.toThrow(
      "embedding endpoint returned 128 dims; the profile expects 64 (hash-embedder)",
    );
    for (const store of stores) expect(await indexExists(store.request, indexNames(BASE, PROFILE).index)).toBe(false);
  });

  it("quotes the engine's own error when an engine rejects the configuration", async (ctx) => {
    if (!engines) ctx.skip();
    // The integ-test Elasticsearch has no analysis-common module, so "english" is unknown to it.
    const profile = { ...PROFILE, analyzer: "english" };
    const error = await runSetup(engines!, clientFor(profile), {
      base: `${BASE}-bad`,
      profile,
      endpoints: endpointsFor(profile),
    }).catch((e) => e);
    expect(error).toBeInstanceOf(EngineError);
    expect(error.message).toMatch(/^elasticsearch rejected creation of index it-chunks-bad-[0-9a-f]{8}: /);
    expect(error.message).toContain("analyzer [english]");
  });

  it("applies every object to both engines, warms them up, and is idempotent", async (ctx) => {
    if (!engines) ctx.skip();
    const lines: string[] = [];
    const options = {
      base: BASE,
      profile: PROFILE,
      endpoints: endpointsFor(PROFILE),
      log: (l: string) => lines.push(l),
    };
    const first = await runSetup(engines!, clientFor(PROFILE), options);
    const names = indexNames(BASE, PROFILE);
    expect(first.elasticsearch).toMatchObject({ index: names.index, aliasTarget: names.index });
    expect(first.opensearch).toMatchObject({ index: names.index, aliasTarget: names.index });
    // Each engine ran both warm-up queries, timed in whole milliseconds, and the log reports those figures.
    const wholeMs = expect.toSatisfy((ms: unknown) => Number.isSafeInteger(ms) && (ms as number) >= 0);
    expect(first.warmup).toStrictEqual({
      elasticsearch: { vectorMs: wholeMs, bm25Ms: wholeMs },
      opensearch: { vectorMs: wholeMs, bm25Ms: wholeMs },
    });
    // The neural query includes OpenSearch's own call to the embedding endpoint: never under 1 ms.
    expect(first.warmup.opensearch.vectorMs).toBeGreaterThan(0);
    expect(lines.at(-1)).toBe(`setup: warm-up done ${JSON.stringify(first.warmup)}`);
    const mapping = (await engines!.os.indices.getMapping({ index: names.index })).body[names.index] as any;
    expect(mapping.mappings.properties.embedding).toMatchObject({ type: "knn_vector", dimension: DIMS });
    const settings = (await engines!.os.indices.getSettings({ index: names.index })).body[names.index] as any;
    expect(settings.settings.index.knn).toBe("true");
    const esMapping = (await engines!.es.indices.getMapping({ index: names.index }))[names.index] as any;
    expect(esMapping.mappings.properties.embedding).toMatchObject({
      type: "dense_vector",
      dims: DIMS,
      similarity: "cosine",
    });
    const pipeline = (
      await engines!.os.transport.request({ method: "GET", path: `/_search/pipeline/${names.searchPipeline}` })
    ).body as any;
    expect(pipeline[names.searchPipeline].phase_results_processors[0]["normalization-processor"].combination).toEqual({
      technique: "arithmetic_mean",
      parameters: { weights: [0.3, 0.7] },
    });

    const connectorsBefore = await countConnectors();
    const second = await runSetup(engines!, clientFor(PROFILE), options);
    expect(second.opensearch.embeddingModelId).toBe(first.opensearch.embeddingModelId);
    expect(second.opensearch.rerankModelId).toBe(first.opensearch.rerankModelId);
    expect(await countConnectors()).toBe(connectorsBefore);
  });
});

async function countConnectors(): Promise<number> {
  const found = (
    await engines!.os.transport.request({
      method: "POST",
      path: "/_plugins/_ml/connectors/_search",
      body: { size: 0, query: { match_all: {} }, track_total_hits: true },
    })
  ).body as any;
  return found.hits.total.value;
}

describe("ingestion into both engines", () => {
  const options = () => ({
    base: BASE,
    profile: PROFILE,
    prefix: "raw/",
    defaultAccess: "public" as const,
    chunking: { maxChars: 400, overlapChars: 60 },
  });

  it("resumes after a crash mid-run without redoing finished documents", async (ctx) => {
    if (!engines) ctx.skip();
    const crash = ingest(new FolderSource(corpusDir), stores, clientFor(PROFILE), {
      ...options(),
      groupChunks: 64,
      afterGroup: (written) => {
        if (written > 0) throw new Error("simulated crash");
      },
    });
    await expect(crash).rejects.toThrow("simulated crash");
    const state = indexNames(BASE, PROFILE).state;
    await stores[0].request("refresh", "POST", `/${state}/_refresh`);
    const partial = (await stores[0].request<any>("count", "POST", `/${state}/_count`)).count as number;
    expect(partial).toBeGreaterThan(0);

    const report = await ingest(new FolderSource(corpusDir), stores, clientFor(PROFILE), options());
    expect(report.unchanged).toBe(partial);
    expect(report.ingested).toBe(80 - partial);
  });

  it("indexes >= 200 chunks with identical ids and vectors, reporting bad documents", async (ctx) => {
    if (!engines) ctx.skip();
    const index = indexNames(BASE, PROFILE).index;
    const [es, os] = (await Promise.all(stores.map((s) => allChunks(s, index)))) as [
      Map<string, any>,
      Map<string, any>,
    ];
    expect(es.size).toBeGreaterThanOrEqual(200);
    expect([...os.keys()].sort()).toEqual([...es.keys()].sort());
    for (const [id, doc] of es) {
      // Both engines index float32; OpenSearch also returns the stored vector at float32 precision.
      expect(os.get(id).embedding.map(Math.fround), id).toEqual(doc.embedding.map(Math.fround));
      expect(os.get(id).content).toBe(doc.content);
      // The permission, identical on both engines and on every chunk (no sidecars: DEFAULT_ACCESS).
      expect(os.get(id).access, id).toEqual(doc.access);
      expect(doc.access, id).toEqual(["public"]);
    }
    const types = new Set([...es.values()].map((d) => d.content_type));
    expect(types).toEqual(new Set(["text/markdown", "text/plain", "text/html", "application/pdf"]));
    // The HTML script and title never reach the text.
    expect([...es.values()].some((d) => d.content.includes("ignored"))).toBe(false);

    const rerun = await ingest(new FolderSource(corpusDir), stores, clientFor(PROFILE), options());
    expect(rerun.failed.map((f) => f.key).sort()).toEqual(["raw/misc/slides.pptx", "raw/pdf/broken.pdf"]);
    expect(rerun.failed.find((f) => f.key.endsWith(".pptx"))!.error).toContain('unsupported document type ".pptx"');
    console.log(`ingested ${es.size} chunks from 80 documents; skipped: ${JSON.stringify(rerun.failed)}`);
  });

  it("is incremental: unchanged objects are skipped by ETag, edits re-embedded, deletions removed by id", async (ctx) => {
    if (!engines) ctx.skip();
    const index = indexNames(BASE, PROFILE).index;
    const callsBefore = models.stats.embedInputs;
    const idle = await ingest(new FolderSource(corpusDir), stores, clientFor(PROFILE), options());
    expect(idle).toMatchObject({ unchanged: 80, ingested: 0, deleted: 0, chunks: 0 });
    expect(models.stats.embedInputs).toBe(callsBefore);

    const before = await allChunks(stores[0], index);
    const removedIds = [...before].filter(([, d]) => d.source_key === "raw/md/doc-0.md").map(([id]) => id);
    unlinkSync(path.join(corpusDir, "raw/md/doc-0.md"));
    writeFileSync(path.join(corpusDir, "raw/txt/doc-1.txt"), "A short replacement about password reset tokens.");
    writeFileSync(path.join(corpusDir, "raw/txt/new-doc.txt"), "A new note on cluster snapshot and replica shards.");
    const report = await ingest(new FolderSource(corpusDir), stores, clientFor(PROFILE), options());
    expect(report).toMatchObject({ unchanged: 78, ingested: 2, deleted: 1, chunks: 2 });
    expect(models.stats.embedInputs - callsBefore).toBe(2);

    const [es, os] = (await Promise.all(stores.map((s) => allChunks(s, index)))) as [
      Map<string, any>,
      Map<string, any>,
    ];
    expect([...os.keys()].sort()).toEqual([...es.keys()].sort());
    for (const id of removedIds) expect(es.has(id) || os.has(id)).toBe(false);
    const edited = [...es.values()].filter((d) => d.source_key === "raw/txt/doc-1.txt");
    expect(edited.map((d) => d.content)).toEqual(["A short replacement about password reset tokens."]);
  });
});

describe("behavioural parity on real engines", () => {
  const queries = corpusQueries(36);

  it("OpenSearch's search pipeline and the fusion module over ES agree on the fused top 10 (>= 0.9 overlap@10)", async (ctx) => {
    if (!engines) ctx.skip();
    const names = indexNames(BASE, PROFILE);
    const client = clientFor(PROFILE);
    const vectors = await client.embed(queries);
    const overlaps: number[] = [];
    const taus: number[] = [];
    for (const [i, text] of queries.entries()) {
      const es = (await esFused(engines!.es, names.alias, PROFILE, text, vectors[i]!)).map((h) => h.id).slice(0, 10);
      const os = (await osHybrid(engines!.os, names.alias, names.fusionPipeline, PROFILE, text, vectors[i]!, "fusion"))
        .map((h) => h.id)
        .slice(0, 10);
      expect(es.length, text).toBe(10);
      overlaps.push(overlapAtK(os, es, 10));
      taus.push(kendallTau(os, es));
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    console.log(
      `parity (fusion, ${queries.length} queries): overlap@10 mean ${mean(overlaps).toFixed(3)} min ${Math.min(...overlaps).toFixed(2)}; Kendall tau mean ${mean(taus).toFixed(3)} min ${Math.min(...taus).toFixed(2)}`,
    );
    expect(mean(overlaps)).toBeGreaterThanOrEqual(0.9);
  });

  it("with the reranker too: OpenSearch's rerank processor and the orchestrator's rerank agree", async (ctx) => {
    if (!engines) ctx.skip();
    const names = indexNames(BASE, PROFILE);
    const client = clientFor(PROFILE);
    const vectors = await client.embed(queries);
    const overlaps: number[] = [];
    const taus: number[] = [];
    for (const [i, text] of queries.entries()) {
      const es = (await esHybrid(engines!.es, client, names.alias, PROFILE, text, vectors[i]!)).map((h) => h.id);
      const os = (await osHybrid(engines!.os, names.alias, names.searchPipeline, PROFILE, text, vectors[i]!, "rerank"))
        .map((h) => h.id)
        .slice(0, PROFILE.topK);
      overlaps.push(overlapAtK(os, es, 10));
      taus.push(kendallTau(os, es));
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    console.log(
      `parity (fusion + rerank, ${queries.length} queries): overlap@10 mean ${mean(overlaps).toFixed(3)} min ${Math.min(...overlaps).toFixed(2)}; Kendall tau mean ${mean(taus).toFixed(3)} min ${Math.min(...taus).toFixed(2)}`,
    );
    expect(mean(overlaps)).toBeGreaterThanOrEqual(0.9);
  });
});

describe("a profile change rebuilds behind the alias", () => {
  it("keeps answering queries while the index is rebuilt with new dims, then swaps and retires the old index", async (ctx) => {
    if (!engines) ctx.skip();
    const oldNames = indexNames(BASE, PROFILE);
    const next: RelevanceProfile = { ...PROFILE, embedding: { model: "hash-embedder", dims: 96 } };
    const newNames = indexNames(BASE, next);
    expect(newNames.index).not.toBe(oldNames.index);
    expect(newNames.alias).toBe(oldNames.alias);

    // A reader as the orchestrator is one: it reads the alias target's _meta to pick the dims.
    let running = true;
    const answers: { engine: string; dims: number; hits: number }[] = [];
    const errors: string[] = [];
    const loop = (async () => {
      while (running) {
        for (const store of stores) {
          try {
            // Resolve the alias once and query the concrete index it named: querying the alias again
            // could reach the new index (other dims) if the swap lands in between.
            const mapping = await store.request<any>("meta", "GET", `/${oldNames.alias}/_mapping`);
            const [index, found] = Object.entries(mapping)[0] as [string, any];
            const meta = found.mappings._meta;
            const vector = (
              await clientFor({ ...PROFILE, embedding: { model: meta.embedding_model, dims: meta.dims } }).embed([
                "password reset",
              ])
            )[0]!;
            const body = await store.request<any>("query", "POST", `/${index}/_search`, {
              size: 5,
              query: { match: { content: "password reset" } },
              ...(store.engine === "elasticsearch"
                ? { knn: { field: "embedding", query_vector: vector, k: 5, num_candidates: 20 } }
                : {}),
            });
            answers.push({ engine: store.engine, dims: meta.dims, hits: body.hits.hits.length });
          } catch (error) {
            errors.push(`${store.engine}: ${(error as Error).message}`);
          }
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();

    const setup = await runSetup(engines!, clientFor(next), {
      base: BASE,
      profile: next,
      endpoints: endpointsFor(next),
    });
    expect(setup.opensearch.aliasTarget).toBe(oldNames.index);
    expect(setup.elasticsearch.aliasTarget).toBe(oldNames.index);
    const report = await ingest(new FolderSource(corpusDir), stores, clientFor(next), {
      base: BASE,
      profile: next,
      prefix: "raw/",
      defaultAccess: "public" as const,
      chunking: { maxChars: 400, overlapChars: 60 },
    });
    expect(report.swapped).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 300));
    running = false;
    await loop;

    expect(errors).toEqual([]);
    expect(answers.every((a) => a.hits > 0)).toBe(true);
    const dimsSeen = new Set(answers.map((a) => a.dims));
    expect(dimsSeen).toEqual(new Set([64, 96]));
    console.log(
      `alias swap: ${answers.length} answers during the rebuild, 0 errors, dims seen ${[...dimsSeen].join(" -> ")}`,
    );
    for (const store of stores) expect(await aliasTarget(store.request, oldNames.alias)).toBe(newNames.index);

    // The old index is removed one run later, not while readers may still hold it.
    for (const store of stores) expect(await indexExists(store.request, oldNames.index)).toBe(true);
    const later = await ingest(new FolderSource(corpusDir), stores, clientFor(next), {
      base: BASE,
      profile: next,
      prefix: "raw/",
      defaultAccess: "public" as const,
      chunking: { maxChars: 400, overlapChars: 60 },
    });
    expect(later.retired).toEqual([oldNames.index, oldNames.index]);
    for (const store of stores) expect(await indexExists(store.request, oldNames.index)).toBe(false);
  });
});
