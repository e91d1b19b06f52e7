import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { ENGAGEMENT_FIELDS, engagementIndex, type ModelEndpoints } from "@search-backbone/relevance";
import {
  corpusDocuments,
  type Engines,
  type ModelServer,
  startModelServer,
  writeCorpus,
} from "@search-backbone/test-engines";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashKey } from "../src/plugins/auth";
import { type AppHandle, engines as acquire, engineUrls, seedBackbone, startApp, stopEngines } from "./harness";

/**
 * Engagement that survives: clicks go through one orchestrator instance, which is then shut down; a
 * second instance (a restart, or another replica) recommends from them. On the real engine pair, with
 * the engagement index the backbone setup creates. Popularity counts only the window's engagements, and
 * a document popular among a group's members is never recommended to a caller outside the group.
 */

const BASE = "orch-engage";
const DOCS = corpusDocuments(8);
const id = (i: number) => String(DOCS[i]?.key).slice("raw/".length);
/** Read by the finance group only (its sidecar); everything else is public. */
const RESTRICTED = id(2);
const POPULAR = id(5);
const OLD = id(6);
const ENGAGED = id(1);

/** Callers by API key; the key ids (principal ids) differ from the group names, so a logged group would show. */
const CALLERS = {
  plain: { id: "reader-a", key: "eng-key-plain-0a1b2c3d4e5f60718293a4b5c6d7e8f9", groups: [] as string[] },
  finance: { id: "reader-b", key: "eng-key-finance-1b2c3d4e5f60718293a4b5c6d7e8f90a", groups: ["finance"] },
};
type Caller = keyof typeof CALLERS;

let e: Engines | undefined;
let models: ModelServer;
let endpoints: ModelEndpoints;
let dir = "";
let keysFile = "";
const apps: AppHandle[] = [];

const start = async (env: Record<string, string> = {}) => {
  const app = await startApp({
    ...engineUrls(),
    endpoints,
    env: { INDEX_ALIAS: BASE, API_KEYS_FILE: keysFile, ...env },
  });
  apps.push(app);
  return app;
};

const call = (app: AppHandle, caller: Caller, method: string, route: string, body?: unknown) =>
  app.call(method, route, body, { authorization: `Bearer ${CALLERS[caller].key}` });

async function recommend(app: AppHandle, caller: Caller, userId: string) {
  const response = await call(app, caller, "GET", `/v1/recommendations?userId=${userId}&count=20`);
  expect(response.status).toBe(200);
  return (await response.json()) as { requestId: string; items: any[]; degraded: boolean; warnings: unknown[] };
}

/** The user is shown the feed (its exposures), then engages with `docId`, at `ts` (default now). */
async function engage(app: AppHandle, caller: Caller, userId: string, docId: string, ts?: string) {
  const feed = await recommend(app, caller, userId);
  expect(feed.items.map((i) => i.docId)).toContain(docId);
  const response = await call(app, caller, "POST", "/v1/events", {
    events: [{ type: "click", userId, queryId: feed.requestId, docId, ...(ts ? { ts } : {}) }],
  });
  expect(response.status).toBe(202);
}

const popular = (items: any[]) => items.filter((i) => i.strategy === "popular").map((i) => i.docId);

beforeAll(async () => {
  e = await acquire();
  if (!e) return;
  models = await startModelServer({ maxBatch: 64 });
  dir = mkdtempSync(path.join(tmpdir(), "orch-engage-"));
  const corpusDir = path.join(dir, "corpus");
  writeCorpus(corpusDir, DOCS);
  writeFileSync(`${path.join(corpusDir, "raw", ...RESTRICTED.split("/"))}.acl.json`, '{"groups": ["finance"]}');
  // A fresh engagement index: the setup creates it when missing.
  await e.es.indices.delete({ index: engagementIndex(BASE) }, { ignore: [404] });
  ({ endpoints } = await seedBackbone(e, models, 0, { base: BASE, corpusDir }));
  keysFile = path.join(dir, "api-keys.json");
  writeFileSync(
    keysFile,
    JSON.stringify(
      Object.values(CALLERS).map((c) => ({
        id: c.id,
        sha256: hashKey(c.key),
        ...(c.groups.length ? { groups: c.groups } : {}),
      })),
    ),
  );
});

afterAll(async () => {
  for (const app of apps) await app.app.shutdown();
  await models?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  if (e?.startedHere) stopEngines();
});

describe("engagement in the backbone's engagement index", () => {
  it("survives a restart: another instance recommends from the first one's engagement, within the window and the caller's access", async (ctx) => {
    if (!e) ctx.skip();
    const first = await start();
    const tenDaysAgo = new Date(Date.now() - 10 * 86_400_000).toISOString();
    await engage(first, "plain", "u-engaged", ENGAGED);
    for (const n of [1, 2, 3]) await engage(first, "plain", `u-pop-${n}`, POPULAR);
    for (const n of [1, 2, 3, 4, 5]) await engage(first, "finance", `u-fin-${n}`, RESTRICTED);
    // More clicks than any other document, but ten days ago: outside the 7-day window.
    for (const n of [1, 2, 3, 4, 5, 6]) await engage(first, "plain", `u-old-${n}`, OLD, tenDaysAgo);
    // The restart: the first instance drains its telemetry and stops.
    await first.app.shutdown();
    apps.splice(apps.indexOf(first), 1);

    const second = await start();
    const engaged = await recommend(second, "plain", "u-engaged");
    expect(engaged.degraded, JSON.stringify(engaged.warnings)).toBe(false);
    expect(engaged.items[0]).toMatchObject({ source: "backbone", strategy: "more-like-engaged" });
    expect(engaged.items.map((i) => i.docId)).not.toContain(ENGAGED);
    expect(engaged.items.map((i) => i.docId)).not.toContain(RESTRICTED);

    // A new user: popularity over the window, the restricted document only for its group.
    expect(popular((await recommend(second, "plain", "u-new")).items)).toEqual([POPULAR, ENGAGED]);
    expect(popular((await recommend(second, "finance", "u-new-fin")).items)).toEqual([RESTRICTED, POPULAR, ENGAGED]);

    // The same engagement over a 30-day window counts the old clicks, first.
    const wide = await start({ ENGAGEMENT_POPULAR_WINDOW: "30d" });
    expect(popular((await recommend(wide, "plain", "u-new-wide")).items)).toEqual([OLD, POPULAR, ENGAGED]);
  });

  it("stores principal ids and document ids only, never groups or queries", async (ctx) => {
    if (!e) ctx.skip();
    const found = await e!.es.search({ index: engagementIndex(BASE), size: 100, query: { match_all: {} } });
    const docs = found.hits.hits.map((h) => h._source as Record<string, string>);
    expect(docs).toHaveLength(15);
    const fields = new Set<string>(Object.values(ENGAGEMENT_FIELDS));
    for (const doc of docs) for (const key of Object.keys(doc)) expect(fields.has(key), key).toBe(true);
    expect(new Set(docs.map((d) => d.principalId))).toEqual(new Set(["reader-a", "reader-b"]));
    expect(JSON.stringify(docs)).not.toContain("finance");
  });
});
