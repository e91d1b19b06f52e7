import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import type { ModelEndpoints } from "@search-backbone/relevance";
import { type Engines, type ModelServer, startModelServer } from "@search-backbone/test-engines";
import { type Browser, chromium } from "playwright-core";
import { chunkId } from "search-backbone-jobs/ingest/chunk";
import type { IngestReport } from "search-backbone-jobs/ingest/ingest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashKey } from "../src/plugins/auth";
import { startAirec } from "./fakes/airec";
import {
  type AppHandle,
  engines as acquire,
  engineUrls,
  eventLog,
  SECRETS,
  seedBackbone,
  sseEvents,
  startApp,
  stopEngines,
} from "./harness";

/**
 * The leak test: document-level permissions on real OpenSearch 3.6 and Elasticsearch 8.17 nodes.
 * A corpus of public, group-restricted, user-restricted, sidecar-less (deny by default) and
 * malformed-sidecar documents is ingested by the backbone's own ingestion; callers with no groups,
 * one group and two groups, and one named as a user, ask through /v1/search, /v1/chat (JSON and SSE)
 * and /v1/recommendations (the backbone's fallbacks and AIRec's ids, which name restricted documents),
 * and through the web page in a real browser (Debian's chromium, as page.test.ts drives it).
 * Every document carries a marker word of its own, and every response's full text is searched for
 * the marker and the id of every document the caller may not read. Then permissions change and one
 * ingestion run later the callers see the new ones.
 */

const ALIAS = "orch-acl";
const TOPIC = "quarterly budget planning review with forecast figures and spending targets for the team";

interface Doc {
  readonly id: string;
  readonly marker: string;
  /** The sidecar's text; undefined: no sidecar (the default, deny here). */
  sidecar?: string | undefined;
}

const DOCS: Doc[] = [
  { id: "public/p1.md", marker: "zqpubone", sidecar: '{"public": true}' },
  { id: "public/p2.md", marker: "zqpubtwo", sidecar: '{"public": true}' },
  { id: "finance/f1.md", marker: "zqfinone", sidecar: '{"groups": ["finance"]}' },
  { id: "finance/f2.md", marker: "zqfintwo", sidecar: '{"groups": ["finance"]}' },
  { id: "hr/h1.md", marker: "zqhrone", sidecar: '{"groups": ["hr"]}' },
  { id: "people/alice.md", marker: "zqaliceone", sidecar: '{"users": ["alice"]}' },
  { id: "misc/nosidecar.md", marker: "zqnoside" },
  { id: "misc/broken.md", marker: "zqbroken", sidecar: '{"groups": ["fin*"]}' },
];

/** API keys: the callers. `alice` has no groups but is named as a user by one document. */
const CALLERS = {
  nobody: { key: "acl-key-nobody-0f1e2d3c4b5a69788796a5b4c3d2e1f0", groups: [] as string[] },
  finance: { key: "acl-key-finance-1a2b3c4d5e6f708192a3b4c5d6e7f809", groups: ["finance"] },
  both: { key: "acl-key-both-2b3c4d5e6f708192a3b4c5d6e7f8091a", groups: ["finance", "hr"] },
  alice: { key: "acl-key-alice-3c4d5e6f708192a3b4c5d6e7f8091a2b", groups: [] as string[] },
};
type Caller = keyof typeof CALLERS;

let e: Engines | undefined;
let models: ModelServer;
let endpoints: ModelEndpoints;
let corpusDir: string;
let ingestAgain: () => Promise<IngestReport>;
let airec: Awaited<ReturnType<typeof startAirec>>;
let app: AppHandle;
let keysDir: string;
let browser: Browser | undefined;
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
/** The callers whose page is driven in a browser; each asks one chat question there. */
const PAGE_CALLERS: Caller[] = ["nobody", "finance"];

function writeDocs(root: string) {
  for (const doc of DOCS) {
    const file = path.join(root, "raw", ...doc.id.split("/"));
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, `# ${doc.id}\n\n${TOPIC}. The code word is ${doc.marker}. ${TOPIC}.\n`);
    if (doc.sidecar !== undefined) writeFileSync(`${file}.acl.json`, doc.sidecar);
    else rmSync(`${file}.acl.json`, { force: true });
  }
}

/** Which documents a caller may read, from the sidecars as they are now (the test's own reading). */
function allowed(caller: Caller): Set<string> {
  const who = CALLERS[caller];
  return new Set(
    DOCS.filter((d) => {
      if (d.sidecar === undefined) return false;
      let p: { public?: boolean; groups?: string[]; users?: string[] };
      try {
        p = JSON.parse(d.sidecar);
      } catch {
        return false;
      }
      if ((p.groups ?? []).some((g) => g.includes("*"))) return false;
      return (
        p.public === true || (p.groups ?? []).some((g) => who.groups.includes(g)) || (p.users ?? []).includes(caller)
      );
    }).map((d) => d.id),
  );
}

/** Every marker and doc id of a document the caller may not read that the text contains. */
function leaks(caller: Caller, text: string): string[] {
  const ok = allowed(caller);
  return DOCS.filter((d) => !ok.has(d.id)).flatMap((d) => [d.marker, d.id].filter((needle) => text.includes(needle)));
}

const ask = (caller: Caller, method: string, route: string, body?: unknown) =>
  app.call(method, route, body, { authorization: `Bearer ${CALLERS[caller].key}` });

beforeAll(async () => {
  e = await acquire();
  if (!e) return;
  models = await startModelServer({ maxBatch: 64 });
  corpusDir = mkdtempSync(path.join(tmpdir(), "orch-acl-corpus-"));
  writeDocs(corpusDir);
  ({ endpoints, ingestAgain } = await seedBackbone(e, models, 0, { base: ALIAS, corpusDir, defaultAccess: "deny" }));
  // AIRec "recommends" restricted documents too: it knows nothing of permissions.
  airec = await startAirec({
    accessKeyId: SECRETS.akId,
    accessKeySecret: SECRETS.akSecret,
    instanceId: "airec-cn-test",
    recommend: () => DOCS.map((d, i) => ({ itemId: d.id, itemType: "article", traceId: `t-${i}` })),
  });
  keysDir = mkdtempSync(path.join(tmpdir(), "orch-acl-keys-"));
  const keysFile = path.join(keysDir, "api-keys.json");
  writeFileSync(
    keysFile,
    JSON.stringify(
      Object.entries(CALLERS).map(([id, c]) => ({
        id,
        sha256: hashKey(c.key),
        ...(c.groups.length > 0 ? { groups: c.groups } : {}),
      })),
    ),
  );
  app = await startApp({
    ...engineUrls(),
    endpoints,
    airecEndpoint: airec.endpoint,
    env: { INDEX_ALIAS: ALIAS, API_KEYS_FILE: keysFile },
  });
});

afterAll(async () => {
  await browser?.close();
  await app?.app.shutdown();
  await Promise.all([models?.close(), airec?.close()]);
  for (const dir of [corpusDir, keysDir]) if (dir) rmSync(dir, { recursive: true, force: true });
  if (e?.startedHere) stopEngines();
});

const QUERIES = ["quarterly budget planning", ...DOCS.map((d) => d.marker)];

/** Every channel, every query: the full response text of each, with the doc ids it shows. */
async function everything(caller: Caller): Promise<{ text: string; docIds: Set<string> }> {
  let text = "";
  const docIds = new Set<string>();
  for (const query of QUERIES) {
    const search = await ask(caller, "POST", "/v1/search", { query, userId: `u-${caller}`, topK: 20 });
    expect(search.status).toBe(200);
    const s = (await search.json()) as any;
    text += JSON.stringify(s);
    for (const r of s.results) docIds.add(r.docId);
  }
  for (const query of ["quarterly budget planning", "zqfinone zqhrone zqaliceone zqnoside zqbroken"]) {
    const messages = [{ role: "user", content: query }];
    const json = await ask(caller, "POST", "/v1/chat", { messages, userId: `u-${caller}` });
    expect(json.status).toBe(200);
    const c = (await json.json()) as any;
    // The answer echoes the caller's own query (retrievalQuery), which names markers on purpose.
    const own = (t: string) => t.split(query).join("");
    text += own(JSON.stringify(c));
    for (const cite of c.citations) docIds.add(cite.docId);
    const sse = await ask(caller, "POST", "/v1/chat", { messages, userId: `u-${caller}`, stream: true });
    expect(sse.status).toBe(200);
    const stream = await sse.text();
    text += own(stream);
    const citations = sseEvents(stream).find((ev) => ev.event === "citations");
    for (const cite of citations?.data.citations ?? []) docIds.add(cite.docId);
  }
  const recs = await ask(caller, "GET", `/v1/recommendations?userId=u-${caller}&count=20`);
  expect(recs.status).toBe(200);
  const r = (await recs.json()) as any;
  text += JSON.stringify(r);
  for (const item of r.items) docIds.add(item.docId);
  return { text, docIds };
}

describe("document-level access on the real engines", () => {
  it("ingests the permissions, skipping the malformed sidecar by name", async (ctx) => {
    if (!e) ctx.skip();
    const again = await ingestAgain();
    expect(again).toMatchObject({ unchanged: DOCS.length - 1, ingested: 0 });
    expect(again.failed.map((f) => f.key)).toEqual(["raw/misc/broken.md"]);
    expect(again.failed[0]?.error).toContain('groups[0]: given "fin*"');
  });

  it.for(Object.keys(CALLERS) as Caller[])(
    "%s: no restricted chunk in search, chat (JSON and SSE) or recommendations, and all it may read is found",
    async (caller, ctx) => {
      if (!e) ctx.skip();
      // Engagement first, so the backbone's more-like-engaged query runs (with the filter inside kNN).
      const first = (await (
        await ask(caller, "POST", "/v1/search", { query: "zqpubone", userId: `u-${caller}` })
      ).json()) as any;
      const shown = first.results.find((x: any) => x.docId === "public/p1.md");
      expect(shown, JSON.stringify(first)).toBeDefined();
      const click = await ask(caller, "POST", "/v1/events", {
        events: [{ type: "click", userId: `u-${caller}`, queryId: first.queryId, docId: "public/p1.md" }],
      });
      expect(click.status).toBe(202);

      const { text, docIds } = await everything(caller);
      expect(leaks(caller, text)).toEqual([]);
      expect([...docIds].filter((d) => !allowed(caller).has(d))).toEqual([]);
      // Allowed callers see what they may: every readable document is found by its marker.
      for (const id of allowed(caller)) expect(docIds, `${caller} should find ${id}`).toContain(id);
    },
  );

  it.for(PAGE_CALLERS)(
    "%s: the page renders no restricted content in its search results, chat citations or recommendations, and all it may read",
    async (caller, ctx) => {
      if (!e) ctx.skip();
      if (!existsSync(CHROMIUM)) {
        if (process.env.CI === "true") throw new Error(`no browser at ${CHROMIUM}: apt-get install -y chromium`);
        ctx.skip();
      }
      browser ??= await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
      const context = await browser.newContext();
      context.setDefaultTimeout(20_000);
      try {
        const page = await context.newPage();
        await page.goto(`${app.url}/#key=${CALLERS[caller].key}`);
        await page.locator(".recs li").first().waitFor();
        // The questions name no marker: whatever the page shows of a document came from the service.
        const question = page.getByLabel("Your question");
        await question.fill("quarterly budget planning");
        await question.press("Enter");
        await page.locator("article[data-status=done]").waitFor();
        // The whole document, not only its visible text: attributes and hidden parts count too.
        let html = await page.content();
        await page.getByRole("button", { name: "Search", exact: true }).click();
        const response = page.waitForResponse((r) => r.url().endsWith("/v1/search"));
        await page.getByLabel("Search the documents").fill("quarterly budget planning review");
        await page.getByLabel("Search the documents").press("Enter");
        expect((await response).status()).toBe(200);
        await page.locator("li.result").first().waitFor();
        html += await page.content();
        expect(leaks(caller, html)).toEqual([]);
        for (const doc of DOCS.filter((d) => allowed(caller).has(d.id)))
          expect(html, `${caller} should see ${doc.id}`).toContain(doc.marker);
      } finally {
        await context.close();
      }
    },
  );

  it("logs the caller's principal id with its events, never its groups", async (ctx) => {
    if (!e) ctx.skip();
    const until = Date.now() + 5000;
    let lines: any[] = [];
    while (Date.now() < until) {
      lines = eventLog(app.eventDir);
      if (lines.some((l) => l.principalId === "both")) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(new Set(lines.map((l) => l.principalId))).toEqual(new Set(Object.keys(CALLERS)));
    expect(JSON.stringify(lines)).not.toMatch(/"groups"|"hr"|group:/);
  });

  it("logs each caller's chat turns with only chunks it may read, and never a key or group", async (ctx) => {
    if (!e) ctx.skip();
    const until = Date.now() + 5000;
    let turns: any[] = [];
    // Every caller chatted 4 times through the API (2 queries, JSON and SSE), and the page's callers once more.
    const expected = (caller: Caller) => 4 + (PAGE_CALLERS.includes(caller) ? 1 : 0);
    const total = (Object.keys(CALLERS) as Caller[]).reduce((sum, caller) => sum + expected(caller), 0);
    while (Date.now() < until) {
      turns = eventLog(app.eventDir, "logs/chat");
      if (turns.length >= total) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(turns).toHaveLength(total);
    for (const caller of Object.keys(CALLERS) as Caller[]) {
      const mine = turns.filter((t) => t.principalId === caller);
      expect(mine, caller).toHaveLength(expected(caller));
      const chunks = mine.flatMap((t) => [...t.context.map((c: any) => c.chunkId), ...t.citedChunkIds]);
      expect(chunks.length, caller).toBeGreaterThan(0);
      // Each chunk named, by the ingestion's own id (not the line's docId), is of a document the caller may read.
      const docOf = (id: string) => DOCS.find((d) => chunkId(`raw/${d.id}`, 0) === id.replace(/-\d+$/, "-0"))?.id;
      expect(
        chunks.filter((id) => !allowed(caller).has(docOf(id) ?? `unknown chunk ${id}`)),
        caller,
      ).toEqual([]);
      expect(new Set(mine.flatMap((t) => t.context.map((c: any) => c.docId))), caller).toEqual(
        new Set(mine.flatMap((t) => t.context.map((c: any) => docOf(c.chunkId)))),
      );
      for (const t of mine) expect(leaks(caller, t.answer.split(t.question).join("")), caller).toEqual([]);
    }
    // Callers are named by key id (here the same words as some groups): the layout has no field for groups.
    const text = JSON.stringify(turns);
    for (const { key } of Object.values(CALLERS)) expect(text).not.toContain(key);
    expect(text).not.toContain('"groups"');
    const fields =
      "type version ts queryId traceId principalId conversation question retrievalQuery context citedChunkIds answer answerMode model";
    for (const t of turns) expect(Object.keys(t).join(" ")).toBe(fields);
  });

  it("takes a permission change into account after one ingestion run, text unchanged", async (ctx) => {
    if (!e) ctx.skip();
    const doc = (id: string) => DOCS.find((d) => d.id === id) as Doc;
    doc("finance/f1.md").sidecar = '{"public": true}';
    doc("people/alice.md").sidecar = '{"groups": ["hr"]}';
    doc("misc/nosidecar.md").sidecar = '{"users": ["alice"]}';
    doc("public/p2.md").sidecar = '{"public": "yes"}'; // now malformed: withdrawn, never left public
    writeDocs(corpusDir);
    const report = await ingestAgain();
    expect(report).toMatchObject({ ingested: 3, revoked: 1 });
    expect(report.failed.map((f) => f.key).sort()).toEqual(["raw/misc/broken.md", "raw/public/p2.md"]);
    for (const caller of Object.keys(CALLERS) as Caller[]) {
      const { text, docIds } = await everything(caller);
      expect(leaks(caller, text), caller).toEqual([]);
      for (const id of allowed(caller)) expect(docIds, `${caller} should find ${id}`).toContain(id);
    }
    expect(allowed("nobody")).toEqual(new Set(["public/p1.md", "finance/f1.md"]));
    expect(allowed("alice").has("people/alice.md")).toBe(false);
    expect(allowed("alice").has("misc/nosidecar.md")).toBe(true);
  });
});
