import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { portProblems } from "../checks.ts";
import { type Ports, workLayout } from "../layout.ts";
import { run, type Service, startService, stopAllGroups } from "../processes.ts";
import { progress } from "../progress.ts";
import { backboneEnv, enginesEnv, localEndpoints, orchestratorEnv } from "../render.ts";
import { embedModel, type Generation, models, orders, type Pass, passes, passProfile, rerankModel } from "./runs.ts";

/**
 * The stack half of scripts/bench-quality.sh: the real engines (scripts/engines.sh), TorchServe
 * serving the four archives of models/bench/quality_stack.py (backbone_models.local_serve), the
 * backbone's own setup and ingestion (k8s/backbone dist/cli.js) once per embedder, then one
 * orchestrator (k8s/orchestrator dist/main.js) per pass of runs.ts, asked POST /v1/search for every
 * held-out query. Writes <out>/runs.json: each run's ranked document ids per query, and the seconds
 * of every stage. Ports are the benchmark's own (9300/9301, 8790-8792, 8780), not the suites' or
 * npm start's.
 *
 *     node local/src/quality/bench.ts --out <dir prepared by quality_stack.py prepare>
 */

const PORTS: Ports = {
  orchestrator: 8780,
  opensearch: 9300,
  opensearchTransport: 9310,
  elasticsearch: 9301,
  elasticsearchTransport: 9311,
  inference: 8790,
  management: 8791,
  metrics: 8792,
};
const HYBRID = [0.3, 0.7] as const; // the default profile's weights (packages/relevance defaults.ts)

const { values } = parseArgs({ options: { out: { type: "string" } } });
if (!values.out) throw new Error("--out: expected the folder quality_stack.py prepare wrote");
const out = path.resolve(values.out);
for (const needed of ["queries.jsonl", "model-store/embed-base.mar", "source/raw"]) {
  if (!existsSync(path.join(out, needed))) throw new Error(`--out ${out}: ${needed} is missing; run prepare first`);
}
const root = path.resolve(import.meta.dirname, "..", "..", "..");
const log = progress();
const layout = workLayout(path.join(out, "stack"));
const queries = readFileSync(path.join(out, "queries.jsonl"), "utf8")
  .split("\n")
  .filter(Boolean)
  .map((l) => JSON.parse(l) as { query: string; doc: string });
const childEnv = { PATH: `${path.join(root, "node_modules", ".bin")}:${process.env.PATH ?? ""}`, HF_HUB_OFFLINE: "1" };
const python = path.join(root, ".venv", "bin", "python");
const stages: Record<string, number> = {};
const services: Service[] = [];

async function stage<T>(name: string, body: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  log(name, "start");
  const value = await body();
  stages[name] = (performance.now() - t0) / 1000;
  log(name, `done in ${stages[name].toFixed(1)} s`);
  return value;
}

/** Profile and endpoints files of one generation and reranker, as the backbone and orchestrator read them. */
function writeConfig(name: string, pass: Pass, inference: string) {
  const dir = path.join(layout.backbone, name);
  mkdirSync(dir, { recursive: true });
  const m = models(pass.generation, pass.reranker);
  const files = { profileFile: path.join(dir, "profile.json"), endpointsFile: path.join(dir, "endpoints.json") };
  writeFileSync(files.profileFile, `${JSON.stringify(passProfile(pass), null, 2)}\n`);
  writeFileSync(files.endpointsFile, `${JSON.stringify(localEndpoints(inference, m), null, 2)}\n`);
  return { ...layout, ...files, source: path.join(out, "source") };
}

const alias = (g: Generation) => `quality-${g}`;

async function ingest(g: Generation, inference: string) {
  const pass = passes(HYBRID).find((p) => p.generation === g && p.reranked) as Pass;
  const files = writeConfig(`ingest-${g}`, pass, inference);
  for (const command of ["setup", "ingest"]) {
    const lines = await run(process.execPath, [path.join(root, "k8s", "backbone", "dist", "cli.js"), command], {
      cwd: root,
      env: { ...childEnv, ...backboneEnv({ alias: alias(g), ports: PORTS, layout: files }) },
      logFile: path.join(layout.runLogs, `backbone-${g}-${command}.log`),
    });
    const done = lines.map((l) => /ingest: done (\{.*\})$/.exec(l)?.[1]).find(Boolean);
    if (done) {
      const r = JSON.parse(done) as { ingested: number; chunks: number; failed: unknown[] };
      log(`ingest-${g}`, `${r.ingested} documents, ${r.chunks} chunks, ${r.failed.length} failed`);
      if (r.failed.length) throw new Error(`ingest-${g}: ${JSON.stringify(r.failed).slice(0, 400)}`);
    }
  }
}

async function searchAll(pass: Pass, inference: string, apiKey: string) {
  const name = pass.fused ?? pass.reranked ?? "pass";
  const files = writeConfig(`pass-${name}`, pass, inference);
  const { service } = await startService(
    `orchestrator (${name})`,
    process.execPath,
    [path.join(root, "k8s", "orchestrator", "dist", "main.js")],
    {
      cwd: root,
      env: {
        ...childEnv,
        ...orchestratorEnv({ alias: alias(pass.generation), ports: PORTS, layout: files, user: {}, rerank: true }),
        // Quality, not latency, is measured: a rerank slowed by a busy CPU must not be cut off (a cut-off
        // rerank answers the fused order, and the pass fails rather than count it as reranked).
        REQUEST_BUDGET_MS: "60000",
        EMBED_TIMEOUT_MS: "20000",
        ENGINE_TIMEOUT_MS: "20000",
        RERANK_TIMEOUT_MS: "40000",
      },
      inheritEnv: false,
      ready: /Server listening at/,
      timeoutMs: 60_000,
      logFile: path.join(layout.runLogs, `orchestrator-${name}.log`),
    },
  );
  services.push(service);
  const fused: string[][] = [];
  const reranked: string[][] = [];
  try {
    for (const q of queries) {
      const r = await fetch(`http://127.0.0.1:${PORTS.orchestrator}/v1/search`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${apiKey}` },
        body: JSON.stringify({ query: q.query.slice(0, 1000), topK: passProfile(pass).topK }),
        signal: AbortSignal.timeout(30_000),
      });
      const body = (await r.json()) as any;
      // A degraded answer (an engine, the embedder or the reranker failed) is not the run it claims to be.
      if (r.status !== 200 || body.degraded || body.rerank !== "applied")
        throw new Error(
          `${name}: ${JSON.stringify(q.query)} answered ${r.status}: ${JSON.stringify(body).slice(0, 500)}`,
        );
      const o = orders(body.results);
      fused.push(o.fused);
      reranked.push(o.reranked);
    }
  } finally {
    await service.stop();
    services.splice(services.indexOf(service), 1);
  }
  return { fused, reranked };
}

const enginesEnvFor = () => ({ ...enginesEnv(PORTS, layout), ENGINES_KEEP_DATA: "0" });

async function main() {
  const problems = await portProblems(PORTS);
  if (problems.length) throw new Error(`cannot start:\n  - ${problems.join("\n  - ")}`);
  mkdirSync(layout.work, { recursive: true, mode: 0o755 });
  const apiKey = `sbq_${randomBytes(24).toString("base64url")}`;
  mkdirSync(path.dirname(layout.apiKeysFile), { recursive: true });
  const sha256 = createHash("sha256").update(apiKey, "utf8").digest("hex");
  writeFileSync(layout.apiKeysFile, `${JSON.stringify([{ id: "bench", sha256 }])}\n`, { mode: 0o600 });
  const store = path.join(out, "model-store");
  const served = ["embed-base", "embed-tuned", "rerank-base", "rerank-tuned"];
  const engines = enginesEnvFor();
  let enginesStarted = false;
  try {
    const startEngines = stage("start the engines", async () => {
      enginesStarted = true;
      await run("bash", [path.join(root, "scripts", "engines.sh"), "start", "all"], {
        env: engines,
        logFile: path.join(layout.runLogs, "engines.log"),
      });
    });
    const startTorchServe = stage("start TorchServe (4 models)", async () => {
      const { service, match } = await startService(
        "TorchServe",
        python,
        [
          "-m",
          "backbone_models.local_serve",
          "--model-store",
          store,
          "--models",
          served.map((n) => `${n}=${n}.mar`).join(","),
          "--workdir",
          layout.torchserve,
          "--inference-port",
          String(PORTS.inference),
          "--management-port",
          String(PORTS.management),
          "--metrics-port",
          String(PORTS.metrics),
        ],
        {
          cwd: path.join(root, "models"),
          env: childEnv,
          ready: /^serving (\{.*\})$/,
          timeoutMs: 600_000,
          logFile: path.join(layout.runLogs, "torchserve.log"),
        },
      );
      services.push(service);
      return (JSON.parse(match[1] as string) as { inference: string }).inference;
    });
    const [e, t] = await Promise.allSettled([startEngines, startTorchServe]);
    if (e.status === "rejected") throw e.reason;
    if (t.status === "rejected") throw t.reason;
    const inference = t.value;
    for (const g of ["base", "tuned"] as const) {
      await stage(`setup and ingest (${embedModel(g).name})`, () => ingest(g, inference));
    }
    const runs: Record<string, string[][]> = {};
    for (const pass of passes(HYBRID)) {
      const label = [pass.fused, pass.reranked].filter(Boolean).join(" and ");
      const got = await stage(`search ${queries.length} queries: ${label} (${rerankModel(pass.reranker).name})`, () =>
        searchAll(pass, inference, apiKey),
      );
      if (pass.fused) runs[pass.fused] = got.fused;
      if (pass.reranked) runs[pass.reranked] = got.reranked;
    }
    const how =
      "through the stack: OpenSearch and Elasticsearch fed by the backbone's ingestion, TorchServe, POST /v1/search " +
      `of the orchestrator (hybrid weights ${HYBRID.join("/")}, depth 50, rerank window 20)`;
    writeFileSync(path.join(out, "runs.json"), `${JSON.stringify({ how, runs, stages })}\n`);
  } finally {
    for (const s of [...services].reverse()) await s.stop();
    await stopAllGroups();
    if (enginesStarted)
      await run("bash", [path.join(root, "scripts", "engines.sh"), "stop", "all"], { env: engines }).catch((error) =>
        log("stop", `engines.sh stop: ${(error as Error).message}`),
      );
  }
}

// Stopped from outside (Ctrl-C, a killed wrapper): the services run in their own process groups
// (processes.ts), so they are stopped here, not left listening on the benchmark's ports.
let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    log("stop", `${signal}: stopping what was started`);
    void Promise.allSettled(services.map((s) => s.stop()))
      .then(() => stopAllGroups())
      .then(() => run("bash", [path.join(root, "scripts", "engines.sh"), "stop", "all"], { env: enginesEnvFor() }))
      .finally(() => process.exit(130));
  });
}

main().catch((error) => {
  console.error(`bench-quality: ${(error as Error).message}`);
  process.exit(1);
});
