import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { type OpenSearchClient, openSearchClient } from "@search-backbone/engines";
import {
  engineUserName,
  indexNames,
  ModelClient,
  osIndexBody,
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
import { osStore } from "search-backbone-jobs/ingest/stores";
import { aliasTarget, indexExists, osRequester, swapAlias } from "search-backbone-jobs/setup/aliases";
import { setupOpenSearchUsers } from "search-backbone-jobs/setup/users";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * Least-privilege engine users on a real node with security on (scripts/engines.sh OS_SECURITY=1):
 * OpenSearch 3.4.0 with the security plugin and TLS on HTTP and transport (the only 3.x version whose
 * security plugin Maven Central has; the cluster runs 3.6.0). Own ports and run folder, so the other
 * suites' nodes are untouched. The setup code makes the users as the admin; ingestion runs as the
 * writer; the reader makes the orchestrator's calls and is refused everything else.
 *
 * Elasticsearch is not tested here: the integ-test distribution starts with X-Pack security on
 * (ES_SECURITY=1), but its native realm cannot create the .security index ("Unknown filter type
 * [pattern_capture]": the analysis-common module is not in that distribution, nor on Maven Central),
 * so `PUT /_security/role` fails there. Its bodies are checked against the documented API shape in
 * test/search/engine-users.test.ts.
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
  OS_PORT: "9290",
  OS_TRANSPORT_PORT: "9390",
  ENGINES_RUN: path.join(tmpdir(), "search-backbone-secure-engines"),
};
const engines = (command: string, inherit = false) =>
  execFileSync("bash", [ENGINES_SCRIPT, command, "opensearch"], {
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
let nodes: { os: Node } | undefined;
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

/**
 * The profile's OpenSearch index as setup makes it (setup/opensearch.ts ensureOpenSearchIndex), except
 * for the vector field: the 3.4.0 test node has no k-NN (it needs transport-grpc, not published at
 * 3.4.0), so the vector is mapped as plain floats. Roles and users do not depend on field types.
 */
async function openSearchIndex(os: OpenSearchClient, profile: RelevanceProfile): Promise<void> {
  const names = indexNames(ALIAS, profile);
  if (!(await indexExists(osRequester(os), names.index))) {
    const body = osIndexBody(profile) as any;
    delete body.settings.index.knn;
    body.mappings.properties.embedding = { type: "float" };
    await os.indices.create({ index: names.index, body });
  }
  if (!(await aliasTarget(osRequester(os), ALIAS))) await swapAlias(osRequester(os), ALIAS, names.index);
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
    if (!/OPENSEARCH_URL=https/.test(env)) {
      engines("start", true);
      startedHere = true;
      env = engines("env");
    }
    const os = nodeFrom(env, "OPENSEARCH");
    if (!os) throw new Error(`engines.sh env named no secured node:\n${env.replace(/PASSWORD.*/g, "")}`);
    nodes = { os };
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
  // The admin sets up the index and alias, and other indices no workload may touch.
  const os = osAs(nodes.os.admin);
  await openSearchIndex(os, PROFILE);
  for (const other of ["other-docs", `${ALIAS}-notes`]) {
    if (!(await indexExists(osRequester(os), other))) await os.index({ index: other, id: "1", body: { n: 1 } });
  }
});

afterAll(async () => {
  await models?.close();
  if (corpus) rmSync(corpus, { recursive: true, force: true });
  if (startedHere) engines("stop", true);
  console.log(`engine-users suite: ${((performance.now() - suiteStarted) / 1000).toFixed(1)} s in all`);
});

describe("engine users on an OpenSearch node with security on", () => {
  it("setup creates the reader and writer, and a second run changes nothing", async (ctx) => {
    if (!nodes) ctx.skip();
    const os = osAs(nodes!.os.admin);
    const get = async (path: string) => (await os.transport.request({ method: "GET", path })).body as any;
    const read = async () => ({
      reader: await get("/_plugins/_security/api/roles/it-users-reader"),
      writer: await get("/_plugins/_security/api/roles/it-users-writer"),
      mapping: await get("/_plugins/_security/api/rolesmapping/it-users-reader"),
      users: await get("/_plugins/_security/api/internalusers/it-users-reader"),
    });
    const first = await setupOpenSearchUsers(os, ALIAS, PASSWORDS);
    expect(first.users).toEqual({ reader: "it-users-reader", writer: "it-users-writer" });
    const afterFirst = await read();
    // What the engine holds is what the renderers say.
    const { description: _r, ...reader } = osRoleBody(ALIAS, "reader");
    const { description: _w, ...writer } = osRoleBody(ALIAS, "writer");
    expect(afterFirst.reader["it-users-reader"]).toMatchObject(reader);
    expect(afterFirst.writer["it-users-writer"]).toMatchObject(writer);
    expect(afterFirst.mapping["it-users-reader"]).toMatchObject({ users: ["it-users-reader"] });

    await setupOpenSearchUsers(os, ALIAS, PASSWORDS);
    expect(await read()).toEqual(afterFirst);
    for (const workload of ["reader", "writer"] as const) {
      const info: any = (
        await osAs(userOf(workload)).transport.request({ method: "GET", path: "/_plugins/_security/authinfo" })
      ).body;
      // Its own role only: no default mapping (own_index) widens it.
      expect(info.roles).toEqual([`it-users-${workload}`]);
    }
  });

  it("a new password takes effect on the next setup run, and the old one stops working", async (ctx) => {
    if (!nodes) ctx.skip();
    const admin = osAs(nodes!.os.admin);
    const rotated = { ...PASSWORDS, reader: randomPassword() };
    const authinfo = (user: { username: string; password: string }) => () =>
      osAs(user).transport.request({ method: "GET", path: "/_plugins/_security/authinfo" });
    const old = userOf("reader");
    await setupOpenSearchUsers(admin, ALIAS, rotated);
    expect(await statusOf(authinfo(old))).toBe(401);
    expect(await statusOf(authinfo({ ...old, password: rotated.reader }))).toBe(200);
    await setupOpenSearchUsers(admin, ALIAS, PASSWORDS);
    expect(await statusOf(authinfo(old))).toBe(200);
  });

  it("the writer runs ingestion: documents, state, the alias swap to a new generation, the old one retired", async (ctx) => {
    if (!nodes) ctx.skip();
    const store = osStore(osAs(userOf("writer")));
    const stores = [store] as const;
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
    await openSearchIndex(osAs(nodes!.os.admin), NEXT);
    const swapped = await ingest(new FolderSource(corpus), stores, modelsFor(NEXT), options(NEXT));
    expect(swapped.ingested).toBe(6);
    const [old, next] = [indexNames(ALIAS, PROFILE).index, indexNames(ALIAS, NEXT).index];
    expect(await aliasTarget(store.request, ALIAS)).toBe(next);
    await ingest(new FolderSource(corpus), stores, modelsFor(NEXT), options(NEXT));
    expect(await indexExists(store.request, old)).toBe(false);
  });

  it("the reader makes the orchestrator's calls: _mapping on the alias, search, msearch, mget, alias lookup", async (ctx) => {
    if (!nodes) ctx.skip();
    const os = osAs(userOf("reader"));
    const index = indexNames(ALIAS, NEXT).index;
    const query = { query: { match: { content: "guide" } }, size: 3 };
    const mapping: any = (await os.indices.getMapping({ index: ALIAS })).body;
    expect(Object.keys(mapping)).toEqual([index]);
    expect(mapping[index].mappings._meta.dims).toBe(48);
    const hits: any = (await os.search({ index, body: query as any })).body;
    expect(hits.hits.hits.length).toBeGreaterThan(0);
    const multi: any = (await os.msearch({ index, body: [{}, query] as any })).body;
    expect(multi.responses[0].hits.hits.length).toBeGreaterThan(0);
    const docs: any = (await os.mget({ index, body: { ids: hits.hits.hits.map((h: any) => h._id) } })).body;
    expect(docs.docs.every((d: any) => d.found)).toBe(true);
    // As the orchestrator's readiness probe asks (k8s/orchestrator/src/routes/readyz.ts).
    expect((await os.indices.existsAlias({ name: ALIAS, index: ALIAS })).body).toBe(true);
    // For the record: the index-less form spans every index (not asserted; the probe does not use it).
    const wide = await statusOf(() => os.indices.existsAlias({ name: ALIAS }));
    console.log(`opensearch reader HEAD /_alias/${ALIAS} (every index): ${wide}`);
  });

  it("the reader gets 403 on a write and on any other index; the writer on other indices and on security", async (ctx) => {
    if (!nodes) ctx.skip();
    const { index, state } = indexNames(ALIAS, NEXT);
    const reader = osAs(userOf("reader"));
    const writer = osAs(userOf("writer"));
    const checks: [string, number][] = [];
    const check = async (label: string, call: () => Promise<unknown>) => {
      checks.push([label, await statusOf(call)]);
    };
    await check("reader index a document", () => reader.index({ index, id: "x", body: { content: "x" } }));
    await check("reader delete a document", () => reader.delete({ index, id: "x" }));
    await check("reader delete the index", () => reader.indices.delete({ index }));
    await check("reader re-point the alias", () =>
      reader.indices.updateAliases({ body: { actions: [{ remove: { index, alias: ALIAS } }] } }),
    );
    await check("reader bulk", () =>
      reader.bulk({ body: [{ index: { _index: index, _id: "y" } }, { content: "y" }] }).then((r: any) => {
        if (r.body.errors) throw { meta: { statusCode: r.body.items[0].index.status } };
      }),
    );
    for (const other of ["other-docs", `${ALIAS}-notes`, state]) {
      await check(`reader search ${other}`, () => reader.search({ index: other }));
      await check(`reader _mapping ${other}`, () => reader.indices.getMapping({ index: other }));
    }
    for (const other of ["other-docs", `${ALIAS}-notes`]) {
      await check(`writer search ${other}`, () => writer.search({ index: other }));
      await check(`writer index into ${other}`, () => writer.index({ index: other, id: "z", body: { n: 2 } }));
    }
    await check("writer create a role", () =>
      writer.transport.request({
        method: "PUT",
        path: "/_plugins/_security/api/roles/escalate",
        body: { cluster_permissions: ["*"] },
      }),
    );
    console.log(checks.map(([label, status]) => `${status} opensearch ${label}`).join("\n"));
    expect(checks.filter(([, status]) => status !== 403)).toEqual([]);
  });
});
