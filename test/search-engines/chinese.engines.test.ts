import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { indexNames, kendallTau, overlapAtK, type RelevanceProfile } from "@search-backbone/relevance";
import {
  acquireEngines,
  type CorpusDoc,
  chineseCorpusFolder,
  chineseDocuments,
  chineseQueries,
  type Engines,
  type ModelServer,
  parseFortunes,
  startModelServer,
  writeCorpus,
} from "@search-backbone/test-engines";
import { ingest } from "search-backbone-jobs/ingest/ingest";
import { FolderSource } from "search-backbone-jobs/ingest/source";
import { esStore, osStore, type Store } from "search-backbone-jobs/ingest/stores";
import { esFused, esHybrid, osHybrid } from "search-backbone-jobs/search";
import { runSetup } from "search-backbone-jobs/setup/index";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { contractModels } from "./contract-models";

/**
 * Chinese analysis on real nodes: the `smartcn` analyzer (Lucene's Smart Chinese analyzer, from the
 * local nodes' stand-in plugins, scripts/engines.sh) segments the same words on OpenSearch 3.6 and
 * Elasticsearch 8.17, and the fused ranking of a Chinese corpus nobody here wrote (Debian's
 * fortunes-zh, scripts/chinese-corpus.sh) agrees across the engines as the English one does.
 */

const BASE = "it-zh";
const DOCS = 400;
const QUERIES = 40;
const PROFILE: RelevanceProfile = {
  embedding: { model: "hash-embedder", dims: 64 },
  rerank: { model: "overlap-reranker" },
  similarity: "cosine",
  bm25Weight: 0.3,
  vectorWeight: 0.7,
  candidateDepth: 50,
  rerankWindow: 20,
  topK: 10,
  analyzer: "smartcn",
};

let engines: Engines | undefined;
let models: ModelServer;
let corpusDir: string | undefined;
let docs: CorpusDoc[];
let stores: [Store, Store];
const started = performance.now();

const { endpointsFor, clientFor } = contractModels(() => models);

async function dropIndices() {
  for (const { request } of stores) {
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
  let folder: string;
  try {
    folder = chineseCorpusFolder();
  } catch (error) {
    if (process.env.CI === "true") throw error;
    console.log(`Chinese corpus unavailable, suite skipped: ${(error as Error).message}`);
    engines = undefined;
    return;
  }
  docs = chineseDocuments(parseFortunes(readFileSync(path.join(folder, "chinese"), "utf8")), DOCS);
  corpusDir = mkdtempSync(path.join(tmpdir(), "backbone-zh-"));
  writeCorpus(corpusDir, docs);
  models = await startModelServer({ maxBatch: 64 });
  stores = [esStore(engines.es), osStore(engines.os)];
  await dropIndices();
  await runSetup(engines, clientFor(PROFILE), { base: BASE, profile: PROFILE, endpoints: endpointsFor(PROFILE) });
  const report = await ingest(new FolderSource(corpusDir), stores, clientFor(PROFILE), {
    base: BASE,
    profile: PROFILE,
    prefix: "raw/",
    defaultAccess: "public",
    chunking: { maxChars: 400, overlapChars: 60 },
  });
  expect(report).toMatchObject({ ingested: DOCS, failed: [] });
});

afterAll(async () => {
  if (engines) await dropIndices();
  await models?.close();
  if (corpusDir) rmSync(corpusDir, { recursive: true, force: true });
  console.log(`Chinese suite: ${((performance.now() - started) / 1000).toFixed(1)} s in total`);
});

/** The analyzer's token stream for one text, as `_analyze` returns it. */
async function tokensOf(store: Store, text: string): Promise<unknown[]> {
  const body = await store.request<any>("analyze", "POST", "/_analyze", { analyzer: PROFILE.analyzer, text });
  return body.tokens;
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe("Chinese analysis on real engines", () => {
  it("indexes the text fields with smartcn on both engines", async (ctx) => {
    if (!engines) ctx.skip();
    const index = indexNames(BASE, PROFILE).index;
    for (const { request, engine } of stores) {
      const mapping = await request<any>("mapping", "GET", `/${index}/_mapping`);
      expect(mapping[index].mappings.properties.content, engine).toMatchObject({ type: "text", analyzer: "smartcn" });
    }
  });

  it("gives identical token streams on both engines for every document, segmented into words", async (ctx) => {
    if (!engines) ctx.skip();
    let tokens = 0;
    let hanTokens = 0;
    let wordTokens = 0;
    for (const doc of docs) {
      const text = doc.body.toString("utf8");
      const [es, os] = await Promise.all(stores.map((store) => tokensOf(store, text)));
      // Token, offsets, position and type: the whole stream BM25 indexes.
      expect(os, doc.key).toEqual(es);
      for (const { token } of es as { token: string }[]) {
        tokens++;
        if (/^\p{Script=Han}+$/u.test(token)) {
          hanTokens++;
          if ([...token].length > 1) wordTokens++;
        }
      }
    }
    // The tokenizer alone (no stop words, no lowercasing), registered under the official name too.
    const sample = docs[0]!.body.toString("utf8");
    const [esTokenizer, osTokenizer] = await Promise.all(
      stores.map((store) =>
        store.request<any>("tokenizer", "POST", "/_analyze", { tokenizer: "smartcn_tokenizer", text: sample }),
      ),
    );
    expect(osTokenizer.tokens).toEqual(esTokenizer.tokens);
    expect(esTokenizer.tokens.length).toBeGreaterThan(10);
    // What the issue complained of: the standard analyzer makes every Han character a token of its own.
    const standard = await stores[0].request<any>("analyze", "POST", "/_analyze", {
      analyzer: "standard",
      text: docs[0]!.body.toString("utf8"),
    });
    const standardHan = (standard.tokens as { token: string }[]).filter((t) => /^\p{Script=Han}+$/u.test(t.token));
    expect(standardHan.length).toBeGreaterThan(10);
    expect(standardHan.every((t) => [...t.token].length === 1)).toBe(true);
    console.log(
      `_analyze (smartcn) on ${docs.length} documents: ${tokens} tokens, identical on both engines; ` +
        `${((wordTokens / hanTokens) * 100).toFixed(1)} % of the ${hanTokens} Han tokens are words of 2+ characters (standard: 0 %)`,
    );
    // Standard: 0 %. Half the corpus is classical poetry, where one character is often one word.
    expect(wordTokens / hanTokens).toBeGreaterThan(0.2);
  });
});

describe("fused parity on a Chinese corpus", () => {
  let queries: string[];
  beforeAll(() => {
    if (engines) queries = chineseQueries(docs, QUERIES);
  });

  it("OpenSearch's search pipeline and the fusion module over ES agree on the fused top 10 (>= 0.9 overlap@10)", async (ctx) => {
    if (!engines) ctx.skip();
    const names = indexNames(BASE, PROFILE);
    const vectors = await clientFor(PROFILE).embed(queries);
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
    console.log(
      `Chinese parity (fusion, ${queries.length} queries): overlap@10 mean ${mean(overlaps).toFixed(3)} min ${Math.min(...overlaps).toFixed(2)}; Kendall tau mean ${mean(taus).toFixed(3)} min ${Math.min(...taus).toFixed(2)}`,
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
    console.log(
      `Chinese parity (fusion + rerank, ${queries.length} queries): overlap@10 mean ${mean(overlaps).toFixed(3)} min ${Math.min(...overlaps).toFixed(2)}; Kendall tau mean ${mean(taus).toFixed(3)} min ${Math.min(...taus).toFixed(2)}`,
    );
    expect(mean(overlaps)).toBeGreaterThanOrEqual(0.9);
  });
});
