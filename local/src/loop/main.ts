import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import * as path from "node:path";
import { Api } from "./api.ts";
import { LOOP_USAGE, type LoopArgs, LoopArgsError, parseLoopArgs } from "./args.ts";
import { type Decision, decidePromotion, decisionTable } from "./decision.ts";
import { countEvents, eventsFolder } from "./files.ts";
import { headingQueries } from "./headings.ts";
import { evaluate, type Kind, type ModelsCli, prepare, train, unpackServing } from "./models.ts";
import { type QueryLoop, startQueryLoop, summariseQueries, summaryLines } from "./query-loop.ts";
import { stopChildren } from "./spawn.ts";
import { readStack, type Stack, StackError } from "./stack.ts";
import { serveAndSwap, waitFor } from "./swap.ts";
import { TorchServeClient } from "./torchserve.ts";
import { planTraffic, replayTraffic } from "./traffic.ts";

/**
 * `npm run loop`: the loop closed on the running local stack. Traffic through the public API, then
 * models/ prepare → fine-tune → evaluate against the serving versions → promote only a better model
 * → package and register it with TorchServe → the backbone's setup and ingestion build and fill a new
 * index generation and swap the alias → the orchestrator reloads its model files → the old generation
 * is retired. A query loop runs through the public API the whole time and reports its errors.
 */

const ROOT = path.resolve(import.meta.dirname, "..", "..", "..");
const started = performance.now();
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s`;
const say = (step: string, message: string) => console.log(`[${elapsed()}] ${step}: ${message}`);
const echo = (step: string) => (line: string) => console.log(`[${elapsed()}] ${step}:   | ${line}`);
const timings: { step: string; seconds: number; note: string }[] = [];

async function step<T>(name: string, run: () => Promise<T>, note: (r: T) => string = () => ""): Promise<T> {
  const t0 = performance.now();
  say(name, "start");
  const result = await run();
  const seconds = (performance.now() - t0) / 1000;
  const n = note(result);
  timings.push({ step: name, seconds, note: n });
  say(name, `done in ${seconds.toFixed(1)} s${n ? `: ${n}` : ""}`);
  return result;
}

const DOC_SUFFIXES = [".txt", ".md"];

function readDocs(folder: string): Map<string, string> {
  const docs = new Map<string, string>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const full = path.join(dir, name);
      if (statSync(full).isDirectory()) walk(full);
      else if (DOC_SUFFIXES.some((s) => name.endsWith(s)))
        docs.set(path.relative(folder, full).split(path.sep).join("/"), readFileSync(full, "utf8"));
    }
  };
  walk(folder);
  return docs;
}

/** The raw folder: the documents' ids are paths relative to it (a `raw` subfolder when the docs folder has one). */
const rawFolder = (docs: string) => (existsSync(path.join(docs, "raw")) ? path.join(docs, "raw") : docs);

async function main(args: LoopArgs): Promise<number> {
  const stackFile = path.resolve(args.stack ?? path.join(ROOT, ".local", "stack.json"));
  const stack: Stack = readStack(stackFile);
  const apiKey = readFileSync(stack.orchestrator.apiKeyFile, "utf8").trim();
  const api = new Api(stack.orchestrator.url, apiKey);
  const ts = new TorchServeClient(stack.torchserve.management, stack.torchserve.inference);
  const run = new Date().toISOString().replace(/[:.]/g, "-");
  const work = path.join(stack.work, "loop", run);
  mkdirSync(work, { recursive: true });
  const m: ModelsCli = { root: ROOT, echo: echo("models") };
  const names: Record<Kind, string> = { embed: stack.models.embed.name, rerank: stack.models.rerank.name };
  const raw = rawFolder(stack.backbone.docs);

  const { docs, serving } = await step(
    "0 stack",
    async () => {
      if (!(await api.healthy()))
        throw new Error(`the orchestrator at ${stack.orchestrator.url} is not ready (/readyz)`);
      const serving = {
        embed: await ts.defaultVersion(names.embed),
        rerank: await ts.defaultVersion(names.rerank),
      };
      return { docs: readDocs(raw), serving };
    },
    (r) =>
      `${stackFile}; orchestrator ${stack.orchestrator.url}; serving ${names.embed} v${r.serving.embed.modelVersion} and ${names.rerank} v${r.serving.rerank.modelVersion}; ${r.docs.size} documents under ${raw}; work folder ${work}`,
  );
  const queries = headingQueries(docs);
  if (queries.length === 0) throw new Error(`no document under ${raw} has a usable heading to query with`);

  // 8 (throughout): the availability query loop, on headings from the end of the list.
  const loopQueries = [...queries].reverse().map((q) => q.query);
  const queryLoop: QueryLoop = startQueryLoop(api, loopQueries, args.queryIntervalMs);
  say(
    "8 query loop",
    `started: one /v1/search every ${args.queryIntervalMs} ms until the end, no user id (no training events)`,
  );
  try {
    return await closeTheLoop(args, {
      stackFile,
      stack,
      api,
      ts,
      work,
      m,
      names,
      raw,
      docs,
      serving,
      queries,
      queryLoop,
    });
  } finally {
    await queryLoop.stop();
    const summary = summariseQueries(queryLoop.records);
    for (const line of summaryLines(summary)) say("8 query loop", line);
    say("summary", "elapsed per step:");
    for (const t of timings) console.log(`    ${t.step.padEnd(24)} ${t.seconds.toFixed(1).padStart(7)} s  ${t.note}`);
    if (summary.errors > 0) process.exitCode = 1;
  }
}

interface Context {
  readonly stackFile: string;
  readonly stack: Stack;
  readonly api: Api;
  readonly ts: TorchServeClient;
  readonly work: string;
  readonly m: ModelsCli;
  readonly names: Record<Kind, string>;
  readonly raw: string;
  readonly docs: Map<string, string>;
  readonly serving: Record<Kind, { modelVersion: string; modelUrl: string }>;
  readonly queries: ReturnType<typeof headingQueries>;
  readonly queryLoop: QueryLoop;
}

async function closeTheLoop(args: LoopArgs, c: Context): Promise<number> {
  const { stack, api, ts, work, m, names } = c;
  // Looked up again after the traffic: a fresh stack has no logs/events folder until its first events.
  const events = () => eventsFolder(stack.eventLog);

  // 1. Traffic.
  if (args.traffic > 0) {
    await step(
      "1 traffic",
      async () => {
        say(
          "1 traffic",
          "SYNTHETIC traffic: scripted users replay corpus headings through the public API and click the heading's document when it is shown; these are not real users",
        );
        const before = countEvents(events());
        const plan = planTraffic(c.queries, { count: args.traffic, users: 20, chatEvery: 5, thumbsUpEvery: 3 });
        const report = await replayTraffic(api, plan, 400, (done, r) => {
          if (done % 50 === 0 || done === plan.length)
            say(
              "1 traffic",
              `${done}/${plan.length} queries, heading's document shown in ${r.found}, ${r.failures} failed`,
            );
        });
        if (report.chatDisabled)
          say("1 traffic", `chat answered with an error, so the rest used search: ${report.chatDisabled}`);
        const unknown = [...report.exposedDocIds].filter((d) => !c.docs.has(d));
        if (report.exposedDocIds.size > 0 && unknown.length === report.exposedDocIds.size) {
          throw new Error(
            `the API returns document ids (e.g. ${unknown[0]}) that are not files under ${c.raw}; backbone.docs must be the folder ingestion reads as raw/`,
          );
        }
        // The orchestrator flushes its event log every second or so; wait until this traffic's events are there.
        const want = report.engagements + report.feedback;
        const engaged = (n: Record<string, number>) => (n.click ?? 0) + (n.citation_open ?? 0) + (n.feedback ?? 0);
        await waitFor(
          `${want} new engagement events in ${events()}`,
          () => engaged(countEvents(events())) - engaged(before) >= want,
          60_000,
        );
        const after = countEvents(events());
        return { report, before, after };
      },
      ({ report, after }) =>
        `${report.searches} searches + ${report.chats} chats, document shown in ${report.found}, ${report.engagements} clicks/opened citations, ${report.feedback} thumbs-up, ${report.failures} failed; event log now ${JSON.stringify(after)}`,
    );
  } else {
    say("1 traffic", "skipped (--traffic 0): training on the event log as it is");
  }

  // 2. Prepare.
  const data = path.join(stack.work, "training", path.basename(work));
  await step(
    "2 prepare",
    () => prepare(m, { events: events(), raw: c.raw, out: data, evalPercent: args.evalPercent }),
    (r) =>
      `${JSON.stringify(r.rows)} from ${r.events} events, ${r.queries_with_positive} queries with a click, ${r.docs_missing_text} documents without text`,
  );

  // 3. Fine-tune from the serving versions.
  const servingDirs = {} as Record<Kind, string>;
  const trained = {} as Record<Kind, string>;
  for (const kind of ["embed", "rerank"] as const) {
    const v = c.serving[kind];
    servingDirs[kind] = await unpackServing(
      m,
      path.isAbsolute(v.modelUrl) ? v.modelUrl : path.join(stack.torchserve.modelStore, v.modelUrl),
      path.join(stack.work, "loop", "serving", `${names[kind]}-v${v.modelVersion}`),
    );
    const out = path.join(work, kind);
    await step(
      `3 train ${kind}`,
      () =>
        train(m, kind, {
          data,
          out,
          base: servingDirs[kind],
          steps: kind === "embed" ? args.embedSteps : args.rerankSteps,
          batchSize: args.batchSize,
          dims: stack.models.embed.dims,
        }),
      (r) => `from ${names[kind]} v${v.modelVersion}; ${JSON.stringify(r.train)}`,
    );
    trained[kind] = path.join(out, "model");
  }

  // 4 + 5. Evaluate both on the held-out split; promote only a better model.
  const decisions = {} as Record<Kind, Decision>;
  for (const kind of ["embed", "rerank"] as const) {
    const figures = await step(`4 evaluate ${kind}`, async () => ({
      serving: await evaluate(m, kind, servingDirs[kind], data),
      candidate: await evaluate(m, kind, trained[kind], data),
    }));
    const decision = decidePromotion({
      kind,
      serving: figures.serving,
      candidate: figures.candidate,
      primary: "ndcg@10",
    });
    decisions[kind] = decision;
    for (const line of decisionTable(decision)) say(`5 decide ${kind}`, line);
    say(`5 decide ${kind}`, decision.reason);
  }
  const promote = (["embed", "rerank"] as const).filter((k) => decisions[k].promote);
  if (promote.length === 0) {
    say("6 serve", "skipped: no new version beats the serving one (reasons above); nothing is packaged or re-indexed");
    return 0;
  }

  // 6 + 7. Serve the promoted versions and swap the stack over to them.
  await serveAndSwap(
    {
      root: ROOT,
      stackFile: c.stackFile,
      stack,
      api,
      ts,
      m,
      work,
      raw: c.raw,
      probe: c.queries[0]?.query ?? "python",
      step,
      say,
      echo,
    },
    Object.fromEntries(promote.map((k) => [k, trained[k]])),
  );
  return 0;
}

async function entry(): Promise<void> {
  let args: LoopArgs;
  try {
    args = parseLoopArgs(process.argv.slice(2));
  } catch (error) {
    if (error instanceof LoopArgsError) {
      console.error(`loop: ${error.message}\n${LOOP_USAGE}`);
      process.exit(2);
    }
    throw error;
  }
  if (args.help) {
    console.log(LOOP_USAGE);
    return;
  }
  const stop = () => {
    stopChildren();
    process.exit(130);
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  try {
    const code = await main(args);
    process.exitCode ||= code;
  } catch (error) {
    console.error(`loop: ${error instanceof StackError ? "" : "failed: "}${(error as Error).message}`);
    process.exitCode = 1;
  }
}

await entry();
