import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import type { ModelEndpoints } from "@search-backbone/relevance";
import { type Engines, type ModelServer, startModelServer } from "@search-backbone/test-engines";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseSse } from "../web/api.js";
import {
  type AppHandle,
  engines as acquire,
  engineUrls,
  eventLog,
  SECRETS,
  seedBackbone,
  startApp,
  stopEngines,
} from "./harness";

/**
 * The page in a real browser: Debian's chromium driven by playwright-core, against the real
 * orchestrator on the real engine pair (the suite's own, scripts/engines.sh) with a corpus ingested by
 * the backbone's setup and ingestion, and no chat model configured, so answers are extractive (as on
 * the local stack by default). The engagements the page sends are read back from the event log.
 * PAGE_SCREENSHOTS=<folder> also saves the README's pictures (npm run screenshots).
 */

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const SHOTS = process.env.PAGE_SCREENSHOTS;
const BASE = "orch-page";
/** PAGE_CORPUS=<folder>: that corpus instead of the synthetic one (the screenshots use the Python docs sample). */
const CORPUS = process.env.PAGE_CORPUS;
const ASK = CORPUS
  ? {
      first: "how do I read rows from a CSV file",
      subject: /csv|rows|read/,
      followUp: "and how do I write them back?",
      search: "encode binary data as base64",
    }
  : {
      first: "how do I reset my password token",
      subject: /password|reset|token/,
      followUp: "and how long does it stay valid?",
      search: "invoice refund payment",
    };

let e: Engines | undefined;
let models: ModelServer;
let slowModels: ModelServer;
let corpusDir = "";
let endpoints: ModelEndpoints;
let app: AppHandle;
let browser: Browser | undefined;
const contexts: BrowserContext[] = [];
const pageErrors: string[] = [];
const consoleLines: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    if (process.env.CI === "true") throw new Error(`no browser at ${CHROMIUM}: apt-get install -y chromium`);
    console.warn(`page test skipped: no browser at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`);
    return;
  }
  e = await acquire();
  if (!e) return;
  models = await startModelServer({ maxBatch: 64 });
  slowModels = await startModelServer({ maxBatch: 64, latencyMs: 1500 });
  // Ingestion reads the source's raw/ prefix: a given corpus is linked there, never copied or removed.
  const linked = CORPUS ? mkdtempSync(path.join(tmpdir(), "orch-page-corpus-")) : undefined;
  if (linked) symlinkSync(path.resolve(CORPUS!), path.join(linked, "raw"));
  const seeded = await seedBackbone(e, models, 40, { base: BASE, ...(linked ? { corpusDir: linked } : {}) });
  ({ corpusDir, endpoints } = seeded);
  app = await startApp({ ...engineUrls(), endpoints, env: { INDEX_ALIAS: BASE } });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
});

afterAll(async () => {
  await browser?.close();
  await app?.app.shutdown();
  await Promise.all([models?.close(), slowModels?.close()]);
  if (corpusDir) rmSync(corpusDir, { recursive: true, force: true });
  if (e?.startedHere) stopEngines();
});

/** Playwright's waits fail well inside the test's 60 s, so a failure names its step instead of the test timing out. */
const STEP_MS = 20_000;

/** Rejects naming the step when it takes longer than `ms`: for the awaits Playwright does not bound. */
async function within<T>(step: string, work: Promise<T>, ms = STEP_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${step}: not done within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

async function open(url: string, viewport = { width: 1280, height: 900 }): Promise<Page> {
  const context = await browser!.newContext({ viewport });
  context.setDefaultTimeout(STEP_MS);
  contexts.push(context);
  const page = await context.newPage();
  page.on("pageerror", (error) => pageErrors.push(error.message));
  page.on("console", (message) => consoleLines.push(message.text()));
  await page.goto(url);
  return page;
}

const shoot = async (page: Page, name: string) => {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
};

const until = async (check: () => boolean, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!check() && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
  return check();
};

/** Records every length the answer's text had while it streamed. */
const watchAnswer = (page: Page) =>
  page.evaluate(() => {
    const seen: number[] = [];
    (window as any).answerLengths = seen;
    new MutationObserver(() => {
      const answers = document.querySelectorAll("[data-testid=answer]");
      const length = answers[answers.length - 1]?.textContent?.length ?? 0;
      if (length && seen.at(-1) !== length) seen.push(length);
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });

async function ask(page: Page, question: string) {
  const request = page.waitForRequest((r) => r.url().endsWith("/v1/chat"));
  const response = page.waitForResponse((r) => r.url().endsWith("/v1/chat"));
  const box = page.getByLabel("Your question");
  await box.fill(question);
  await box.press("Enter");
  const sent = (await request).postDataJSON();
  const { events, rest } = parseSse(await within(`the answer to "${question}"`, (await response).text()));
  expect(rest).toBe("");
  return { sent, events };
}

describe("the page in a real browser", () => {
  it("streams an extractive answer with citations, opens one, takes feedback, and logs those events", async (ctx) => {
    if (!browser || !e) ctx.skip();
    const page = await open(`${app.url}/#key=${SECRETS.apiKey}`);
    // The key left the address bar and stays in this tab only.
    expect(page.url()).toBe(`${app.url}/`);
    expect(await page.evaluate(() => sessionStorage.getItem("search-backbone.apiKey"))).toBe(SECRETS.apiKey);
    await page.getByRole("heading", { name: "Related to this conversation and to you" }).waitFor();
    await page.locator(".recs li").first().waitFor();
    const userId = await page.evaluate(() => localStorage.getItem("search-backbone.userId"));
    expect(userId).toMatch(/^web-[0-9a-f]{24}$/);

    await watchAnswer(page);
    const first = await ask(page, ASK.first);
    await page.locator("article[data-status=done]").waitFor();
    const head = first.events[0]!;
    expect(head.event).toBe("citations");
    expect(head.data).toMatchObject({ answerMode: "extractive", degraded: false, rerank: "applied" });
    const tokens = first.events.filter((x) => x.event === "token").map((x) => x.data.text as string);
    expect(tokens.length).toBeGreaterThan(5);
    const answer = tokens.join("");
    // The first citation the answer quotes (the extractive answer cites each sentence).
    const quoted = Number(/\[(\d+)\]/.exec(answer)?.[1]);
    expect(quoted).toBeGreaterThan(0);
    // The page showed the answer growing token by token, and then exactly what was streamed.
    const lengths: number[] = await page.evaluate(() => (window as any).answerLengths);
    expect(lengths.length).toBeGreaterThan(1);
    expect(lengths.at(-1)).toBe(answer.length);
    expect(await page.getByTestId("answer").textContent()).toBe(answer);
    await expect(page.locator(".mode").textContent()).resolves.toContain("Extractive answer");
    const citations = head.data.citations;
    expect(await page.locator("ol.citations > li").count()).toBe(citations.length);
    expect(await page.locator("ol.citations > li").first().textContent()).toContain(citations[0].title);
    const cited = citations[quoted - 1];
    expect(cited.engines).toEqual(["elasticsearch", "opensearch"]);

    // Opening a citation shows its passage and the engines that returned it.
    await page
      .getByRole("button", { name: `Open source ${quoted}` })
      .first()
      .click();
    const dialog = page.getByRole("dialog");
    await dialog.waitFor();
    expect(await dialog.locator(".passage-text").textContent()).toBe(cited.passage);
    expect(await dialog.locator(".engines").textContent()).toMatch(/Elasticsearch.*OpenSearch/);
    await shoot(page, "citation-passage");
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "hidden" });

    await page.getByRole("button", { name: "Helpful", exact: true }).click();
    await page.getByText("Thanks, feedback sent.").waitFor();
    await shoot(page, "chat");

    // A follow-up carries the conversation.
    const second = await ask(page, ASK.followUp);
    await page.locator("article[data-status=done]").nth(1).waitFor();
    expect(second.sent.messages.map((m: any) => m.role)).toEqual(["user", "assistant", "user"]);
    expect(second.sent.messages[1].content).toBe(answer);
    expect(second.events[0]!.data.retrievalQuery).toMatch(ASK.subject);
    // Switching to search and back keeps the conversation.
    await page.getByRole("button", { name: "Search", exact: true }).click();
    await page.getByRole("button", { name: "Chat", exact: true }).click();
    expect(await page.locator("article[data-status=done]").count()).toBe(2);

    // The page's engagements reached the event log, under the page's user and the answer's queryId.
    const queryId = head.data.queryId;
    const mine = () => eventLog(app.eventDir).filter((l) => l.userId === userId && l.queryId === queryId);
    expect(await until(() => mine().some((l) => l.type === "feedback"))).toBe(true);
    expect(mine().filter((l) => l.type === "expose" && l.channel === "chat")).toHaveLength(
      new Set(citations.map((c: any) => c.docId)).size,
    );
    expect(mine().find((l) => l.type === "citation_open")).toMatchObject({
      docId: cited.docId,
      position: quoted - 1,
      channel: "chat",
    });
    expect(mine().find((l) => l.type === "feedback")).toMatchObject({ value: "up", channel: "chat" });
  });

  it("searches with each result's engines and scores, and logs the click", async (ctx) => {
    if (!browser || !e) ctx.skip();
    const page = await open(`${app.url}/#key=${SECRETS.apiKey}`);
    const userId = await page.evaluate(() => localStorage.getItem("search-backbone.userId"));
    await page.getByRole("button", { name: "Search", exact: true }).click();
    const response = page.waitForResponse((r) => r.url().endsWith("/v1/search"));
    await page.getByLabel("Search the documents").fill(ASK.search);
    await page.getByLabel("Search the documents").press("Enter");
    const body = await (await response).json();
    await page.locator("li.result").first().waitFor();
    expect(await page.locator("li.result").count()).toBe(body.results.length);
    const provenance = await page.locator("li.result .provenance").first().textContent();
    expect(provenance).toMatch(/Elasticsearch \d\.\d\d.*OpenSearch \d\.\d\d.*fused \d\.\d\d · rerank/);
    expect(await page.getByText("fused from both engines and reranked").count()).toBe(1);
    await shoot(page, "search");
    await page.locator("li.result .result-title").nth(1).click();
    await page.getByRole("dialog").waitFor();
    expect(
      await until(() =>
        eventLog(app.eventDir).some(
          (l) => l.type === "click" && l.userId === userId && l.docId === body.results[1].docId,
        ),
      ),
    ).toBe(true);
  });

  it("says when a key is refused, and takes a good one", async (ctx) => {
    if (!browser || !e) ctx.skip();
    const page = await open(`${app.url}/#key=not-a-key-of-this-service`);
    const alert = page.getByRole("alert");
    await alert.waitFor();
    expect(await alert.textContent()).toBe(
      "The API key was not accepted: it is wrong or has expired. Enter a valid key.",
    );
    expect(await page.evaluate(() => sessionStorage.getItem("search-backbone.apiKey"))).toBeNull();
    await shoot(page, "error-key");
    await page.getByLabel("API key").fill(SECRETS.apiKey);
    await page.getByLabel("API key").press("Enter");
    await page.getByLabel("Your question").waitFor();
  });

  it("says when the key's rate limit is reached, with the wait, and blocks asking until then", async (ctx) => {
    if (!browser || !e) ctx.skip();
    // The limited key has 3 requests a minute: the recommendations, two questions, then a 429.
    const page = await open(`${app.url}/#key=${SECRETS.limitedKey}`);
    await page.locator(".recs li").first().waitFor();
    for (const n of [0, 1]) {
      await ask(page, `what is a vpc subnet ${n}`);
      await page.locator("article[data-status=done]").nth(n).waitFor();
    }
    await page.getByLabel("Your question").fill("one more");
    await page.getByLabel("Your question").press("Enter");
    const alerts = page.getByRole("alert");
    await page
      .getByText(/Too many requests for this API key\. Try again in \d+ s\./)
      .first()
      .waitFor();
    expect(await alerts.count()).toBeGreaterThan(0);
    expect(await page.getByRole("button", { name: "Ask", exact: true }).isDisabled()).toBe(true);
  });

  it("flags a degraded answer (rerank skipped) and a stream that dropped before its end", async (ctx) => {
    if (!browser || !e) ctx.skip();
    // The reranker answers after 1.5 s, past this instance's 300 ms rerank timeout.
    const slow = await startApp({
      ...engineUrls(),
      endpoints: { ...endpoints, rerank: { ...endpoints.rerank, url: slowModels.rerankUrl } },
      env: { INDEX_ALIAS: BASE, RERANK_TIMEOUT_MS: "300" },
    });
    try {
      const page = await open(`${slow.url}/#key=${SECRETS.apiKey}`);
      const degraded = await ask(page, "invoice refund payment");
      await page.locator("article[data-status=done]").waitFor();
      expect(degraded.events[0]!.data).toMatchObject({ degraded: true, rerank: "skipped" });
      await page.getByText(/Reranking was skipped, so results are in fused order/).waitFor();
      await shoot(page, "degraded");

      // The browser's routing passes the service's real stream on, cut after its first token.
      await page.route("**/v1/chat", async (route) => {
        const response = await route.fetch();
        const body = await response.text();
        const second = body.indexOf("event: token", body.indexOf("event: token") + 1);
        await route.fulfill({ response, body: body.slice(0, second) });
      });
      await page.getByLabel("Your question").fill("invoice refund payment again");
      await page.getByLabel("Your question").press("Enter");
      await page.locator("article[data-status=error]").waitFor();
      expect(await page.locator("article[data-status=error] .error").textContent()).toBe(
        "The connection dropped before the answer was complete; what arrived is shown. Ask again to retry.",
      );
      expect(await page.locator("article[data-status=error] [data-testid=answer]").textContent()).not.toBe("");
    } finally {
      // The browser's connections go first: the server's close waits for requests still in flight.
      await Promise.all(contexts.splice(0).map((context) => context.close()));
      await within("stopping the second orchestrator", slow.app.shutdown());
    }
  });

  it("is readable on a phone and never logs the key", async (ctx) => {
    if (!browser || !e) ctx.skip();
    const page = await open(`${app.url}/#key=${SECRETS.apiKey}`, { width: 390, height: 844 });
    await ask(page, "kubernetes pod deployment");
    await page.locator("article[data-status=done]").waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await shoot(page, "phone");
    expect(pageErrors).toEqual([]);
    expect(consoleLines.filter((l) => l.includes(SECRETS.apiKey) || l.includes(SECRETS.limitedKey))).toEqual([]);
  });
});
