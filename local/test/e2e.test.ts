import { execFileSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { gunzipSync } from "node:zlib";
import { FIELDS, indexNames, osHybridQuery, type RelevanceProfile } from "@search-backbone/relevance";
import { startDashScope } from "@search-backbone/test-engines";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { workLayout } from "../src/layout.ts";
import { type Service, startService } from "../src/processes.ts";
import { progress } from "../src/progress.ts";
import { orchestratorEnv } from "../src/render.ts";
import { probeQuery, type RunningStack, startStack } from "../src/stack.ts";

/**
 * The end-to-end test: the local stack `npm start` runs (same modules), on the first 12 documents
 * of the sample corpus and ports of its own, and one assertion per seam, each on data the real
 * other side produced: TorchServe's handlers, both engines, OpenSearch's ml-commons connector and
 * search pipeline, the orchestrator, its event log, and models/ prepare reading that log.
 */

const root = path.resolve(import.meta.dirname, "..", "..");
const work = path.join(root, ".local", "e2e");
const docs = path.join(work, "docs");
const ALIAS = "e2e-docs";
const PORTS = {
  orchestrator: 8580,
  opensearch: 9294,
  opensearchTransport: 9394,
  elasticsearch: 9295,
  elasticsearchTransport: 9395,
  inference: 8590,
  management: 8591,
  metrics: 8592,
};
const venvPython = path.join(root, ".venv", "bin", "python");
// The stack builds the jobs and the orchestrator itself when their dist/ is missing or stale.
const available = existsSync(venvPython);

let stack: RunningStack | undefined;
let profile: RelevanceProfile;
const log = progress((line) => console.log(`e2e ${line}`));

const api = async (route: string, body?: unknown, base = stack!.description.orchestrator.url) => {
  const r = await fetch(`${base}${route}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${stack!.apiKey}` },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: r.status, body: (await r.json()) as any };
};
const engine = async (url: string, route: string, body: unknown) => {
  const r = await fetch(`${url}${route}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  expect(r.status, `${url}${route}`).toBe(200);
  return (await r.json()) as any;
};
const torchserve = async (model: "embed" | "rerank", body: unknown) => {
  const m = stack!.description.models[model];
  return engine(stack!.description.torchserve.inference, `/predictions/${m.name}/${m.version}`, body);
};
const bothEngines = (r: { engines?: string[] }) =>
  !!r.engines?.includes("opensearch") && !!r.engines?.includes("elasticsearch");

beforeAll(async () => {
  if (!available) {
    if (process.env.CI === "true") throw new Error("the end-to-end test needs scripts/setup.sh (the .venv of models/)");
    return;
  }
  // Fresh indices every run, so ingestion really runs; the model archives are reused.
  rmSync(path.join(work, "engines"), { recursive: true, force: true });
  rmSync(path.join(work, "logs"), { recursive: true, force: true });
  // The user's own folder (`npm start -- --docs`): 12 sample documents and one that cannot be parsed.
  const sample = execFileSync("bash", [path.join(root, "scripts", "sample-corpus.sh"), "--limit", "12"], {
    encoding: "utf8",
  })
    .trim()
    .split("\n")
    .at(-1) as string;
  rmSync(docs, { recursive: true, force: true });
  mkdirSync(docs, { recursive: true });
  for (const f of readdirSync(sample).filter((f) => !f.startsWith(".")))
    copyFileSync(path.join(sample, f), path.join(docs, f));
  writeFileSync(path.join(docs, "broken.pdf"), "%PDF-1.4 this is not a PDF body");
  stack = await startStack({
    root,
    work,
    docs,
    ports: PORTS,
    alias: ALIAS,
    log,
    userEnv: {},
    setup: false,
  });
  profile = JSON.parse(readFileSync(stack.description.backbone.profileFile, "utf8"));
});

afterAll(async () => {
  await stack?.stop();
});

describe("the local stack end to end", () => {
  it("ingested every document through the real embed handler into both engines, identically", async (ctx) => {
    if (!stack) ctx.skip();
    expect(stack!.ingest.ingested).toBe(12);
    // The unparseable document is reported by name and skipped; the start completed.
    expect(stack!.ingest.failed.map((f) => f.key)).toEqual(["raw/broken.pdf"]);
    const { opensearch, elasticsearch } = stack!.description.engines;
    const query = {
      size: 4,
      sort: [{ [FIELDS.sourceKey]: "asc" }, { [FIELDS.chunkNo]: "asc" }],
      query: { match_all: {} },
    };
    const es = (await engine(elasticsearch, `/${ALIAS}/_search`, query)).hits.hits;
    const ids = es.map((h: any) => h._id);
    const os = (await engine(opensearch, `/${ALIAS}/_search`, { size: 4, query: { ids: { values: ids } } })).hits.hits;
    expect(os.map((h: any) => h._id).sort()).toEqual([...ids].sort());
    const texts = es.map((h: any) => h._source[FIELDS.text]);
    const served = (await torchserve("embed", { input: texts })).data.map((d: any) => d.embedding as number[]);
    for (const [i, hit] of es.entries()) {
      const inEs = hit._source[FIELDS.vector] as number[];
      const inOs = os.find((h: any) => h._id === hit._id)._source[FIELDS.vector] as number[];
      expect(inEs).toHaveLength(profile.embedding.dims);
      // OpenSearch answers the float32 it stored, Elasticsearch the double it was sent: the same vector.
      expect(Math.max(...inOs.map((v, j) => Math.abs(v - inEs[j]!)))).toBeLessThan(1e-6);
      // The handler batches differently now than during ingestion; float32 noise only.
      const diff = Math.max(...inEs.map((v, j) => Math.abs(v - served[i][j])));
      expect(diff, `chunk ${hit._id}`).toBeLessThan(1e-4);
    }
  });

  it("OpenSearch's search pipeline reranks through the real rerank handler behind the ml-commons connector", async (ctx) => {
    if (!stack) ctx.skip();
    const text = probeQuery(stack!.description.backbone.docs);
    const [vector] = (await torchserve("embed", { input: [text] })).data.map((d: any) => d.embedding);
    const names = indexNames(ALIAS, profile);
    const body = osHybridQuery(profile, text, vector, "rerank");
    const hits = (
      await engine(
        stack!.description.engines.opensearch,
        `/${ALIAS}/_search?search_pipeline=${names.searchPipeline}`,
        body,
      )
    ).hits.hits as any[];
    expect(hits.length).toBeGreaterThan(1);
    const direct = await torchserve("rerank", { query: text, documents: hits.map((h) => h._source[FIELDS.text]) });
    const score = new Map<number, number>(direct.results.map((r: any) => [r.index, r.relevance_score]));
    hits.forEach((h, i) => {
      expect(h._score, `hit ${i} ${h._id}`).toBeCloseTo(score.get(i)!, 4);
    });
    const scores = hits.map((h) => h._score);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
  });

  it("/v1/search returns results both engines found, reranked", async (ctx) => {
    if (!stack) ctx.skip();
    const { status, body } = await api("/v1/search", { query: probeQuery(stack!.description.backbone.docs) });
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body).toMatchObject({ degraded: false, rerank: "applied" });
    expect(body.results.filter(bothEngines).length).toBeGreaterThan(0);
  });

  it("/v1/chat answers extractively without DashScope, citing passages both engines found", async (ctx) => {
    if (!stack) ctx.skip();
    const question = probeQuery(stack!.description.backbone.docs);
    const { status, body } = await api("/v1/chat", {
      messages: [{ role: "user", content: question }],
      userId: "e2e-user",
    });
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body.answerMode).toBe("extractive");
    expect(body.citations.length).toBeGreaterThan(0);
    const search = await api("/v1/search", { query: question });
    const found = new Map<string, any>(search.body.results.map((r: any) => [r.id, r]));
    expect(body.citations.some((c: any) => bothEngines(c.engines ? c : (found.get(c.id) ?? {})))).toBe(true);
  });

  it("/v1/chat with DashScope (a local fake of its API) prompts with passages both engines found", async (ctx) => {
    if (!stack) ctx.skip();
    const fakeKey = "sk-e2e-fake-dashscope";
    // A contract-checking fake of its API (the machine cannot reach DashScope); its words are never shown as a model's.
    const fake = await startDashScope({ apiKey: fakeKey, tokens: 4 });
    const layout = workLayout(work);
    const port = PORTS.orchestrator + 1;
    const env = orchestratorEnv({
      alias: ALIAS,
      ports: { ...PORTS, orchestrator: port },
      layout,
      user: { DASHSCOPE_API_KEY: fakeKey, DASHSCOPE_BASE_URL: fake.baseURL, CHAT_MODEL: "qwen-plus" },
    });
    let service: Service | undefined;
    try {
      ({ service } = await startService(
        "orchestrator (DashScope)",
        process.execPath,
        [path.join(root, "k8s/orchestrator/dist/main.js")],
        {
          env: { ...env, PATH: process.env.PATH ?? "" },
          inheritEnv: false,
          ready: /Server listening at/,
          timeoutMs: 60_000,
        },
      ));
      const question = probeQuery(stack!.description.backbone.docs);
      const { status, body } = await api(
        "/v1/chat",
        { messages: [{ role: "user", content: question }] },
        `http://127.0.0.1:${port}`,
      );
      expect(status, JSON.stringify(body)).toBe(200);
      expect(body.answerMode).toBe("llm");
      expect(fake.stats.calls).toBe(1);
      expect(body.answer).toMatch(/\[1\]/);
      const prompt = fake.stats.lastMessages[0]!.content;
      expect(prompt).toContain(`[1] ${body.citations[0].title}`);
    } finally {
      await service?.stop();
      await fake.close();
    }
  });

  it("events land in the event log, and models/ prepare reads every one of them", async (ctx) => {
    if (!stack) ctx.skip();
    const queries = [
      "2to3 fixers",
      "future statement definitions",
      "top-level code environment",
      "low-level threading locks",
      "abstract base classes",
      "AIFF audio files",
      "generic operating system services",
      "data compression and archiving",
      "command-line option parser",
      "arrays of numeric values",
    ];
    const clicks: { queryId: string; docId: string }[] = [];
    for (const [i, query] of queries.entries()) {
      const { body } = await api("/v1/search", { query, userId: `e2e-user-${i % 3}` });
      const first = body.results[0];
      clicks.push({ queryId: body.queryId, docId: first.docId });
      const posted = await api("/v1/events", {
        events: [
          {
            type: "click",
            userId: `e2e-user-${i % 3}`,
            queryId: body.queryId,
            docId: first.docId,
            query,
            position: 0,
            channel: "search",
          },
        ],
      });
      expect(posted.status, JSON.stringify(posted.body)).toBe(202);
    }
    const logged = () => {
      const dir = stack!.description.eventLog;
      if (!existsSync(dir)) return [];
      return (readdirSync(dir, { recursive: true }) as string[])
        .filter((f) => f.endsWith(".jsonl.gz"))
        .flatMap((f) =>
          gunzipSync(readFileSync(path.join(dir, f)))
            .toString("utf8")
            .trim()
            .split("\n")
            .map((l) => JSON.parse(l)),
        );
    };
    const end = Date.now() + 15_000;
    let events = logged();
    while (events.filter((e) => e.type === "click").length < clicks.length && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 250));
      events = logged();
    }
    for (const c of clicks) expect(events).toContainEqual(expect.objectContaining({ type: "click", ...c }));

    const out = mkdtempSync(path.join(tmpdir(), "e2e-prepare-"));
    execFileSync(
      venvPython,
      [
        "-m",
        "backbone_models.cli",
        "prepare",
        "--events",
        stack!.description.eventLog,
        "--raw",
        stack!.description.backbone.docs,
        "--out",
        out,
        "--eval-percent",
        "50",
      ],
      { cwd: path.join(root, "models"), stdio: "inherit" },
    );
    const stats = JSON.parse(readFileSync(path.join(out, "prepare-stats.json"), "utf8"));
    expect(stats.events).toBe(events.length);
    expect(stats.engagements_without_exposure).toBe(0);
    expect(stats.docs_missing_text).toBe(0);
    const distinct = new Set(clicks.map((c) => `${c.queryId}\u0000${c.docId}`));
    expect(stats.positives).toBe(distinct.size);
    rmSync(out, { recursive: true, force: true });
  });
});
