import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import {
  type ElasticsearchClient,
  elasticsearchClient,
  type OpenSearchClient,
  openSearchClient,
} from "@search-backbone/engines";
import {
  engineUserName,
  esRoleBody,
  indexNames,
  ModelClient,
  osRoleBody,
  type RelevanceProfile,
} from "@search-backbone/relevance";
import {
  corpusDocuments,
  ENGINES_SCRIPT,
  type ModelServer,
  startModelServer,
  writeCorpus,
} from "@search-backbone/test-engines";
import { ingest } from "search-backbone-jobs/ingest/ingest";
import { FolderSource } from "search-backbone-jobs/ingest/source";
import { esStore, osStore } from "search-backbone-jobs/ingest/stores";
import { aliasTarget, esRequester, indexExists, osRequester } from "search-backbone-jobs/setup/aliases";
import { setupElasticsearch } from "search-backbone-jobs/setup/elasticsearch";
import { ensureOpenSearchIndex } from "search-backbone-jobs/setup/opensearch";
import { setupEngineUsers } from "search-backbone-jobs/setup/users";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * Least-privilege engine users on real nodes with security on (scripts/engines.sh OS_SECURITY=1
 * ES_SECURITY=1): OpenSearch 3.4.0 with the security plugin and TLS on HTTP and transport (the only
 * 3.x version whose security plugin Maven Central has; the cluster runs 3.6.0), and Elasticsearch
 * 8.17.0 with X-Pack security (native realm, HTTPS). Own ports and run folder, so the other suites'
 * nodes are untouched. The setup code makes the users as the admin; ingestion runs as the writer;
 * the reader makes the orchestrator's calls and is refused everything else.
 */

const ALIAS = "it-users";
const PROFILE: RelevanceProfile = {
  embedding: { model: "hash-embedder", dims: 32 },
  rerank: { model: "overlap-reranker" },
  similarity: "cosine",
  bm25Weight: 0.3,
  vectorWeight: 0.7,
  candidateDepth: 20,
  rerankWindow: 10,
  topK: 5,
  analyzer: "standard",
};
/** Another generation (other dims): setup builds its index beside the first, ingestion swaps to it. */
const NEXT: RelevanceProfile = { ...PROFILE, embedding: { model: "hash-embedder", dims: 48 } };
/** Random, as the stack's are: the security plugin refuses guessable passwords. */
const randomPassword = () => randomBytes(24).toString("base64url");
const PASSWORDS = { reader: randomPassword(), writer: randomPassword() };

const SECURE_ENV = {
  OS_SECURITY: "1",
  ES_SECURITY: "1",
  OS_PORT: "9290",
  OS_TRANSPORT_PORT: "9390",
  ES_PORT: "9291",
  ES_TRANSPORT_PORT: "9391",
  ENGINES_RUN: path.join(tmpdir(), "search-backbone-secure-engines"),
};
const engines = (command: string, inherit = false) =>
  execFileSync("bash", [ENGINES_SCRIPT, command, "all"], {
    env: { ...process.env, ...SECURE_ENV },
    encoding: "utf8",
    stdio: ["ignore", inherit ? "inherit" : "pipe", "inherit"],
    timeout: 900_000,
  });

interface Node {
  readonly url: string;
  readonly caFile: string;
  readonly admin: { username: string; password: string };
}
let nodes: { es: Node; os: Node } | undefined;
let startedHere = false;
let models: ModelServer;
let corpus: string;
const suiteStarted = performance.now();

function nodeFrom(env: string, prefix: string): Node | undefined {
  const value = (key: string) => new RegExp(`^${prefix}_${key}=(.+)$`, "m").exec(env)?.[1];
  const url = value("URL");
  const caFile = value("CA_FILE");
  const username = value("USERNAME");
  const passwordFile = value("PASSWORD_FILE");
  if (!url || !caFile || !username || !passwordFile) return undefined;
  return { url, caFile, admin: { username, password: readFileSync(passwordFile, "utf8").trim() } };
}

const esAs = (user: { username: string; password: string }) =>
  elasticsearchClient({ url: nodes!.es.url, caFile: nodes!.es.caFile, ...user });
const osAs = (user: { username: string; password: string }) =>
  openSearchClient({ url: nodes!.os.url, caFile: nodes!.os.caFile, ...user });
const userOf = (workload: "reader" | "writer") => ({
  username: engineUserName(ALIAS, workload),
  password: PASSWORDS[workload],
});

/** The HTTP status a call ends with (200 when it succeeds). */
async function statusOf(call: () => Promise<unknown>): Promise<number> {
  try {
    await call();
    return 200;
  } catch (error) {
    const status = (error as { meta?: { statusCode?: number } }).meta?.statusCode;
    if (typeof status !== "number") throw error;
    return status;
  }
}

const modelsFor = (profile: RelevanceProfile) =>
  new ModelClient({
    endpoints: {
      embedding: {
        url: models.embeddingUrl(profile.embedding.dims),
        model: profile.embedding.model,
        protocol: "contract",
        dims: profile.embedding.dims,
        authSecret: null,
      },
      rerank: {
        url: models.rerankUrl,
        model: profile.rerank.model,
        protocol: "contract",
        dims: null,
        authSecret: null,
      },
    },
    maxBatch: 16,
    concurrency: 2,
  });

beforeAll(async () => {
  const started = performance.now();
  try {
    let env = engines("env");
    if (!/OPENSEARCH_URL=https/.test(env) || !/ELASTICSEARCH_URL=https/.test(env)) {
      engines("start", true);
      startedHere = true;
      env = engines("env");
    }
    const es = nodeFrom(env, "ELASTICSEARCH");
    const os = nodeFrom(env, "OPENSEARCH");
    if (!es || !os) throw new Error(`engines.sh env named no secured nodes:\n${env.replace(/PASSWORD.*/g, "")}`);
    nodes = { es, os };
  } catch (error) {
    if (process.env.CI === "true") throw error;
    console.log(`secured nodes unavailable, skipping: ${(error as Error).message}`);
    return;
  }
  console.log(
    `secured nodes ready in ${((performance.now() - started) / 1000).toFixed(1)} s (started here: ${startedHere})`,
  );
  models = await startModelServer({ maxBatch: 64 });
  corpus = mkdtempSync(path.join(tmpdir(), "engine-users-corpus-"));
  writeCorpus(
    corpus,
    corpusDocuments(6).filter((d) => !/broken|pptx/.test(d.key)),
  );
  // The admin sets up the index and alias, and another index no workload may touch.
  const [es, os] = [esAs(nodes.es.admin), osAs(nodes.os.admin)];
  await setupElasticsearch(es, { base: ALIAS, profile: PROFILE });
  await ensureOpenSearchIndex(os, { base: ALIAS, profile: PROFILE });
  for (const other of ["other-docs", `${ALIAS}-notes`]) {
    if (!(await indexExists(esRequester(es), other))) await es.index({ index: other, id: "1", document: { n: 1 } });
    if (!(await indexExists(osRequester(os), other))) await os.index({ index: other, id: "1", body: { n: 1 } });
  }
});

afterAll(async () => {
  await models?.close();
  if (corpus) rmSync(corpus, { recursive: true, force: true });
  if (startedHere) engines("stop", true);
  console.log(`engine-users suite: ${((performance.now() - suiteStarted) / 1000).toFixed(1)} s in all`);
});

describe("engine users on nodes with security on", () => {
  it("setup creates the reader and writer on both engines, and a second run changes nothing", async (ctx) => {
    if (!nodes) ctx.skip();
    const [es, os] = [esAs(nodes!.es.admin), osAs(nodes!.os.admin)];
    const admin = { es, os };
    const read = async () => ({
      es: await es.transport.request({ method: "GET", path: "/_security/role/it-users-reader,it-users-writer" }),
      os: [
        (await os.transport.request({ method: "GET", path: "/_plugins/_security/api/roles/it-users-reader" })).body,
        (await os.transport.request({ method: "GET", path: "/_plugins/_security/api/roles/it-users-writer" })).body,
        (await os.transport.request({ method: "GET", path: "/_plugins/_security/api/rolesmapping/it-users-reader" }))
          .body,
      ],
    });
    const first = await setupEngineUsers(admin, ALIAS, PASSWORDS);
    expect(first.users).toEqual({ reader: "it-users-reader", writer: "it-users-writer" });
    const afterFirst = await read();
    // What the engines hold is what the renderers say.
    expect((afterFirst.es as any)["it-users-reader"]).toMatchObject(esRoleBody(ALIAS, "reader"));
    expect((afterFirst.es as any)["it-users-writer"]).toMatchObject(esRoleBody(ALIAS, "writer"));
    const { description: _d, ...osReader } = osRoleBody(ALIAS, "reader");
    expect((afterFirst.os[0] as any)["it-users-reader"]).toMatchObject(osReader);
    expect((afterFirst.os[2] as any)["it-users-reader"]).toMatchObject({ users: ["it-users-reader"] });

    await setupEngineUsers(admin, ALIAS, PASSWORDS);
    expect(await read()).toEqual(afterFirst);
    for (const workload of ["reader", "writer"] as const) {
      const info: any = await esAs(userOf(workload)).security.authenticate();
      expect(info.roles).toEqual([`it-users-${workload}`]);
      const os: any = (
        await osAs(userOf(workload)).transport.request({ method: "GET", path: "/_plugins/_security/authinfo" })
      ).body;
      expect(os.roles).toEqual([`it-users-${workload}`]);
    }
  });

  it("a new password takes effect on the next setup run, and the old one stops working", async (ctx) => {
    if (!nodes) ctx.skip();
    const admin = { es: esAs(nodes!.es.admin), os: osAs(nodes!.os.admin) };
    const rotated = { ...PASSWORDS, reader: randomPassword() };
    await setupEngineUsers(admin, ALIAS, rotated);
    const old = userOf("reader");
    const renewed = { ...old, password: rotated.reader };
    expect(await statusOf(() => esAs(old).security.authenticate())).toBe(401);
    expect(
      await statusOf(() => osAs(old).transport.request({ method: "GET", path: "/_plugins/_security/authinfo" })),
    ).toBe(401);
    expect(await statusOf(() => esAs(renewed).security.authenticate())).toBe(200);
    await setupEngineUsers(admin, ALIAS, PASSWORDS);
    expect(await statusOf(() => esAs(old).security.authenticate())).toBe(200);
  });

  it("the writer runs ingestion: documents, state, the alias swap to a new generation, the old one retired", async (ctx) => {
    if (!nodes) ctx.skip();
    const writer = userOf("writer");
    const stores = [esStore(esAs(writer)), osStore(osAs(writer))] as const;
    const options = (profile: RelevanceProfile) => ({
      base: ALIAS,
      profile,
      prefix: "raw/",
      defaultAccess: "public" as const,
    });
    const first = await ingest(new FolderSource(corpus), stores, modelsFor(PROFILE), options(PROFILE));
    expect(first.failed).toEqual([]);
    expect(first.ingested).toBe(6);

    // A profile change: the admin's setup builds the next generation's index; the writer fills it,
    // swaps the alias, and retires the old generation on the run after.
    const admin = { es: esAs(nodes!.es.admin), os: osAs(nodes!.os.admin) };
    await setupElasticsearch(admin.es, { base: ALIAS, profile: NEXT });
    await ensureOpenSearchIndex(admin.os, { base: ALIAS, profile: NEXT });
    const swapped = await ingest(new FolderSource(corpus), stores, modelsFor(NEXT), options(NEXT));
    expect(swapped.ingested).toBe(6);
    const [old, next] = [indexNames(ALIAS, PROFILE).index, indexNames(ALIAS, NEXT).index];
    for (const store of stores) expect(await aliasTarget(store.request, ALIAS)).toBe(next);
    await ingest(new FolderSource(corpus), stores, modelsFor(NEXT), options(NEXT));
    for (const store of stores) expect(await indexExists(store.request, old)).toBe(false);
  });

  it("the reader makes the orchestrator's calls: _mapping on the alias, search, msearch, mget, alias lookup", async (ctx) => {
    if (!nodes) ctx.skip();
    const reader = userOf("reader");
    const es = esAs(reader);
    const os = osAs(reader);
    const index = indexNames(ALIAS, NEXT).index;
    const query = { query: { match: { content: "guide" } }, size: 3 };

    const esMapping: any = await es.indices.getMapping({ index: ALIAS });
    expect(Object.keys(esMapping)).toEqual([index]);
    expect(esMapping[index].mappings._meta.dims).toBe(48);
    const esHits: any = await es.search({ index, ...query });
    expect(esHits.hits.hits.length).toBeGreaterThan(0);
    const esMulti: any = await es.msearch({ index, searches: [{}, query] });
    expect(esMulti.responses[0].hits.hits.length).toBeGreaterThan(0);
    const esDocs: any = await es.mget({ index, ids: esHits.hits.hits.map((h: any) => h._id) });
    expect(esDocs.docs.every((d: any) => d.found)).toBe(true);
    // As the orchestrator's readiness probe asks (k8s/orchestrator/src/routes/readyz.ts).
    expect(await es.indices.existsAlias({ name: ALIAS, index: ALIAS })).toBe(true);

    const osMapping: any = (await os.indices.getMapping({ index: ALIAS })).body;
    expect(Object.keys(osMapping)).toEqual([index]);
    const osHits: any = (await os.search({ index, body: query as any })).body;
    expect(osHits.hits.hits.length).toBeGreaterThan(0);
    const osMulti: any = (await os.msearch({ index, body: [{}, query] as any })).body;
    expect(osMulti.responses[0].hits.hits.length).toBeGreaterThan(0);
    const osDocs: any = (await os.mget({ index, body: { ids: osHits.hits.hits.map((h: any) => h._id) } })).body;
    expect(osDocs.docs.every((d: any) => d.found)).toBe(true);
    expect((await os.indices.existsAlias({ name: ALIAS, index: ALIAS })).body).toBe(true);
    // For the record: the index-less form spans every index (not asserted; the probe does not use it).
    const wide = await statusOf(() => os.indices.existsAlias({ name: ALIAS }));
    console.log(`opensearch reader HEAD /_alias/${ALIAS} (every index): ${wide}`);
  });

  it("the reader gets 403 on a write and on any other index; the writer on other indices and on security", async (ctx) => {
    if (!nodes) ctx.skip();
    const index = indexNames(ALIAS, NEXT).index;
    const state = indexNames(ALIAS, NEXT).state;
    const others = ["other-docs", `${ALIAS}-notes`, state];
    const checks: [string, number][] = [];
    const check = async (label: string, call: () => Promise<unknown>) => {
      checks.push([label, await statusOf(call)]);
    };
    for (const [engine, reader, writer] of [
      ["es", esAs(userOf("reader")), esAs(userOf("writer"))],
      ["os", osAs(userOf("reader")), osAs(userOf("writer"))],
    ] as const) {
      const e = engine === "es";
      const es = reader as ElasticsearchClient;
      const os = reader as OpenSearchClient;
      await check(`${engine} reader index a document`, () =>
        e
          ? es.index({ index, id: "x", document: { content: "x" } })
          : os.index({ index, id: "x", body: { content: "x" } }),
      );
      await check(`${engine} reader delete a document`, () =>
        e ? es.delete({ index, id: "x" }) : os.delete({ index, id: "x" }),
      );
      await check(`${engine} reader delete the index`, () =>
        e ? es.indices.delete({ index }) : os.indices.delete({ index }),
      );
      await check(`${engine} reader bulk`, () =>
        e
          ? es.bulk({ operations: [{ index: { _index: index, _id: "y" } }, { content: "y" }] }).then((r: any) => {
              if (r.errors) throw { meta: { statusCode: r.items[0].index.status } };
            })
          : os.bulk({ body: [{ index: { _index: index, _id: "y" } }, { content: "y" }] }).then((r: any) => {
              if (r.body.errors) throw { meta: { statusCode: r.body.items[0].index.status } };
            }),
      );
      for (const other of others) {
        await check(`${engine} reader search ${other}`, () =>
          e ? es.search({ index: other }) : os.search({ index: other }),
        );
        await check(`${engine} reader _mapping ${other}`, () =>
          e ? es.indices.getMapping({ index: other }) : os.indices.getMapping({ index: other }),
        );
      }
      const ew = writer as ElasticsearchClient;
      const ow = writer as OpenSearchClient;
      for (const other of ["other-docs", `${ALIAS}-notes`]) {
        await check(`${engine} writer search ${other}`, () =>
          e ? ew.search({ index: other }) : ow.search({ index: other }),
        );
        await check(`${engine} writer index into ${other}`, () =>
          e
            ? ew.index({ index: other, id: "z", document: { n: 2 } })
            : ow.index({ index: other, id: "z", body: { n: 2 } }),
        );
      }
      await check(`${engine} writer create a role`, () =>
        e
          ? ew.transport.request({ method: "PUT", path: "/_security/role/escalate", body: { cluster: ["all"] } })
          : ow.transport.request({
              method: "PUT",
              path: "/_plugins/_security/api/roles/escalate",
              body: { cluster_permissions: ["*"] },
            }),
      );
    }
    console.log(checks.map(([label, status]) => `${status} ${label}`).join("\n"));
    expect(checks.filter(([, status]) => status !== 403)).toEqual([]);
  });
});
