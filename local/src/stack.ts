import { createHash, randomBytes } from "node:crypto";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import * as path from "node:path";
import {
  archiveProblem,
  chatLogProblem,
  docsProblem,
  javaProblem,
  ownEnginePorts,
  portFree,
  portProblems,
  pythonProblem,
} from "./checks.ts";
import { type Ports, type WorkLayout, workLayout } from "./layout.ts";
import { run, type Service, startService, stopAllGroups } from "./processes.ts";
import type { Log } from "./progress.ts";
import { promotionBasis, readPromotion, servedModels } from "./promotion.ts";
import {
  backboneEnv,
  enginesEnv,
  type LocalModels,
  localEndpoints,
  localProfile,
  orchestratorEnv,
  parseLocalModels,
  rerankChoice,
  type StackDescription,
  stackDescription,
} from "./render.ts";
import { buildNeeded, setupReason, setupStamp } from "./stamp.ts";

export interface StackOptions {
  /** The repository root. */
  readonly root: string;
  /** The stack's own folder (`.local`). */
  readonly work: string;
  /** The documents; undefined means the sample corpus (scripts/sample-corpus.sh). */
  readonly docs?: string | undefined;
  readonly ports: Ports;
  readonly alias: string;
  readonly log: Log;
  /** The user's environment: DASHSCOPE_* come from here. */
  readonly userEnv: Readonly<Record<string, string | undefined>>;
  /** Run scripts/setup.sh when it is missing or stale (npm start), or only check (tests). */
  readonly setup: boolean;
  /** Rerank (true), never (false), or as local-models.json recommends (undefined): `--rerank`. */
  readonly rerank?: boolean | undefined;
}

export interface IngestSummary {
  readonly listed: number;
  readonly unchanged: number;
  readonly ingested: number;
  readonly chunks: number;
  readonly failed: readonly { key: string; error: string }[];
  readonly seconds: number;
  readonly docsPerSecond: number;
  readonly chunksPerSecond: number;
}

export interface RunningStack {
  readonly description: StackDescription;
  readonly pageUrl: string;
  readonly apiKey: string;
  readonly ingest: IngestSummary;
  /** Whether the orchestrator reranks, and why (printed before `ready`). */
  readonly rerank: { readonly enabled: boolean; readonly reason: string };
  /** Seconds per step. */
  readonly timings: Record<string, number>;
  stop(): Promise<void>;
}

export class StartError extends Error {
  override name = "StartError";
}

const newestMtime = (dir: string): number =>
  existsSync(dir)
    ? readdirSync(dir, { withFileTypes: true }).reduce((newest, e) => {
        const full = path.join(dir, e.name);
        return Math.max(newest, e.isDirectory() ? newestMtime(full) : statSync(full).mtimeMs);
      }, 0)
    : 0;
const mtime = (file: string) => (existsSync(file) ? statSync(file).mtimeMs : undefined);

/** The first line of the first document that has words: a query the corpus surely answers. */
export function probeQuery(docs: string): string {
  const files = (readdirSync(docs, { recursive: true }) as string[])
    .filter((f) => !path.basename(f).startsWith(".") && /\.(txt|md|markdown|html?)$/i.test(f))
    .sort();
  for (const file of files) {
    const full = path.join(docs, file);
    if (!statSync(full).isFile()) continue;
    const line = readFileSync(full, "utf8")
      .split("\n")
      .map((l) => l.replace(/[^\p{L}\p{N}\s]+/gu, " ").trim())
      .find((l) => /\p{L}{3}/u.test(l));
    if (line) return line.replace(/\s+/g, " ").slice(0, 120);
  }
  return "documentation";
}

export async function startStack(o: StackOptions): Promise<RunningStack> {
  const layout = workLayout(o.work);
  const log = o.log;
  const timings: Record<string, number> = {};
  const services: Service[] = [];
  const childEnv = {
    PATH: `${path.join(o.root, "node_modules", ".bin")}:${process.env.PATH ?? ""}`,
    HF_HUB_OFFLINE: "1",
  };
  const venvPython = path.join(o.root, ".venv", "bin", "python");
  const models = path.join(o.root, "models");
  let enginesStarted = false;
  let stopping: Promise<void> | undefined;

  const stop = () => {
    stopping ??= (async () => {
      for (const service of [...services].reverse()) {
        log("stop", `stopping ${service.name}`);
        await service.stop();
      }
      await stopAllGroups();
      if (enginesStarted) {
        log("stop", "stopping OpenSearch and Elasticsearch");
        await run("bash", [path.join(o.root, "scripts", "engines.sh"), "stop", "all"], {
          env: enginesEnv(o.ports, layout),
          onLine: (l) => log("stop", l),
        }).catch((error) => log("stop", `engines.sh stop: ${(error as Error).message}`));
      }
      const busy: number[] = [];
      for (const port of Object.values(o.ports)) if (!(await portFree(port))) busy.push(port);
      log("stop", busy.length ? `still listening: ${busy.join(", ")}` : "stopped; nothing of the stack is listening");
    })();
    return stopping;
  };

  const step = async <T>(name: string, what: string, body: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    log(name, what);
    const value = await body();
    timings[name] = (performance.now() - t0) / 1000;
    log(name, `done in ${timings[name].toFixed(1)} s`);
    return value;
  };

  try {
    // 0755: run as root, scripts/engines.sh starts the engines as its own unprivileged user, which must
    // reach the engines' folders under the work folder; the key files inside are 0600 themselves.
    mkdirSync(layout.work, { recursive: true, mode: 0o755 });

    // Checks first: nothing starts while one fails.
    await step("checks", "ports, Java, Python, documents", async () => {
      const problems = [
        ...(await portProblems(o.ports, ownEnginePorts(layout.engines, o.ports))),
        javaProblem(),
        pythonProblem(o.root),
        o.docs ? docsProblem(o.docs) : undefined,
        chatLogProblem(o.userEnv),
      ].filter((p): p is string => p !== undefined);
      if (problems.length) throw new StartError(`cannot start:\n  - ${problems.join("\n  - ")}`);
    });

    await step("setup", "npm dependencies and Python venv (scripts/setup.sh when missing or stale)", async () => {
      const wanted = setupStamp(
        readFileSync(path.join(o.root, "package-lock.json")),
        readFileSync(path.join(models, "requirements.txt")),
      );
      const reason = setupReason({
        recorded: existsSync(layout.setupStamp) ? readFileSync(layout.setupStamp, "utf8") : undefined,
        wanted,
        nodeModules: existsSync(path.join(o.root, "node_modules", ".bin", "node")),
        venv: existsSync(venvPython),
      });
      if (reason && o.setup) {
        log("setup", `running scripts/setup.sh: ${reason}`);
        await run("bash", [path.join(o.root, "scripts", "setup.sh")], { cwd: o.root, onLine: (l) => log("setup", l) });
        writeFileSync(layout.setupStamp, wanted);
      } else if (reason && existsSync(venvPython)) log("setup", `not run (${reason}); using what is installed`);
      else if (reason) throw new StartError(`set-up is missing (${reason}); run bash scripts/setup.sh`);
      else log("setup", "current (stamp matches package-lock.json and models/requirements.txt)");
      for (const [ws, dist] of [
        ["k8s/backbone", "dist/cli.js"],
        ["k8s/orchestrator", "dist/main.js"],
      ] as const) {
        const dir = path.join(o.root, ws);
        const sources = Math.max(
          newestMtime(path.join(dir, "src")),
          mtime(path.join(o.root, "packages/relevance/dist/index.js")) ?? 0,
        );
        if (buildNeeded(sources, mtime(path.join(dir, dist)))) {
          log("setup", `building ${ws}`);
          await run("npm", ["run", "build", `--workspace=${ws}`], {
            cwd: o.root,
            env: childEnv,
            onLine: (l) => log("setup", l),
          });
        }
      }
    });

    const docs = await step("corpus", o.docs ? `documents from ${o.docs}` : "the sample corpus", async () => {
      if (o.docs) return path.resolve(o.docs);
      const lines = await run("bash", [path.join(o.root, "scripts", "sample-corpus.sh")], {
        onLine: (l) => (l.startsWith("/") ? undefined : log("corpus", l)),
      });
      const folder = lines.filter((l) => l.startsWith("/")).at(-1);
      if (!folder) throw new StartError("scripts/sample-corpus.sh printed no folder");
      log("corpus", `${readdirSync(folder).filter((f) => !f.startsWith(".")).length} documents in ${folder}`);
      return folder;
    });

    // Engines and models do not depend on each other: the JVMs start while models/ builds archives.
    const engines = step(
      "engines",
      `OpenSearch :${o.ports.opensearch}, Elasticsearch :${o.ports.elasticsearch}`,
      async () => {
        enginesStarted = true;
        await run("bash", [path.join(o.root, "scripts", "engines.sh"), "start", "all"], {
          env: enginesEnv(o.ports, layout),
          onLine: (l) => log("engines", l.replace(/^engines: /, "")),
          logFile: path.join(layout.runLogs, "engines.log"),
        });
      },
    );
    const built = step("models", `embedder and reranker archives in ${layout.modelStore}`, async () => {
      // models/ local-models: the pretrained MiniLM embedder and a reranker fine-tuned on the docs,
      // reused when the docs, the code and the base weights are unchanged.
      await run(venvPython, ["-m", "backbone_models.cli", "local-models", "--docs", docs, "--out", layout.modelStore], {
        cwd: models,
        env: childEnv,
        onLine: (l) => log("models", l),
        logFile: path.join(layout.runLogs, "local-models.log"),
      });
      const manifest = path.join(layout.modelStore, "local-models.json");
      if (!existsSync(manifest)) throw new StartError(`models: ${manifest} was not written`);
      const described = parseLocalModels(readFileSync(manifest, "utf8"), manifest);
      // Versions `npm run loop` promoted are served again, not version 1 (promotion.ts).
      let record: ReturnType<typeof readPromotion>;
      try {
        record = readPromotion(layout.modelStore);
      } catch (error) {
        throw new StartError(`models: ${(error as Error).message}`);
      }
      const served = servedModels(described, record, promotionBasis(layout.modelStore), (mar) =>
        existsSync(path.join(layout.modelStore, mar)),
      );
      for (const note of served.notes) log("models", note);
      for (const m of [served.models.embed, served.models.rerank]) {
        const problem = archiveProblem(path.join(layout.modelStore, m.mar));
        if (problem) throw new StartError(`models: ${problem}`);
      }
      return served.models;
    });
    // Both settle before either error is thrown, so a failure never leaves the other running unseen.
    const [enginesResult, modelsResult] = await Promise.allSettled([engines, built]);
    if (enginesResult.status === "rejected") throw enginesResult.reason;
    if (modelsResult.status === "rejected") throw modelsResult.reason;
    const described = modelsResult.value;

    const torchserve = await step(
      "torchserve",
      `serving ${described.embed.name} and ${described.rerank.name}`,
      async () => {
        const { service, match } = await startService(
          "TorchServe",
          venvPython,
          [
            "-m",
            "backbone_models.local_serve",
            "--model-store",
            layout.modelStore,
            "--models",
            `${described.embed.name}=${described.embed.mar},${described.rerank.name}=${described.rerank.mar}`,
            "--workdir",
            layout.torchserve,
            "--inference-port",
            String(o.ports.inference),
            "--management-port",
            String(o.ports.management),
            "--metrics-port",
            String(o.ports.metrics),
          ],
          {
            cwd: models,
            env: childEnv,
            ready: /^serving (\{.*\})$/,
            timeoutMs: 420_000,
            logFile: path.join(layout.runLogs, "torchserve.log"),
            onLine: (l) => (l.startsWith("local_serve:") ? log("torchserve", l) : undefined),
          },
        );
        services.push(service);
        const urls = JSON.parse(match[1] as string) as { inference: string; management: string };
        log("torchserve", `inference ${urls.inference}, management ${urls.management}`);
        return urls;
      },
    );

    writeRendered(layout, described, torchserve.inference);
    linkSource(layout, docs);
    const backbone = (command: string) =>
      run(process.execPath, [path.join(o.root, "k8s", "backbone", "dist", "cli.js"), command], {
        cwd: o.root,
        env: { ...childEnv, ...backboneEnv({ alias: o.alias, ports: o.ports, layout }) },
        onLine: (l) => log(command, l.replace(/^\S+Z /, "").replace(/^(setup|ingest): /, "")),
        logFile: path.join(layout.runLogs, `backbone-${command}.log`),
      });
    await step("setup-engines", "the backbone's setup (k8s/backbone: profile, connectors, pipelines, indices)", () =>
      backbone("setup"),
    );
    const ingest = await step("ingest", `the backbone's ingestion of ${docs}`, async () => {
      const lines = await backbone("ingest");
      const done = lines.map((l) => /ingest: done (\{.*\})$/.exec(l)?.[1]).find(Boolean);
      if (!done) throw new StartError("ingest finished without its report line");
      const report = JSON.parse(done) as IngestSummary;
      for (const f of report.failed) {
        const file = path.join(docs, f.key.replace(/^raw\//, ""));
        log(
          "ingest",
          `skipped ${file}: ${f.error.startsWith(`${f.key}: `) ? f.error.slice(f.key.length + 2) : f.error}`,
        );
      }
      log(
        "ingest",
        `${report.ingested} documents (${report.chunks} chunks) ingested, ${report.unchanged} unchanged, ${report.failed.length} skipped`,
      );
      return report;
    });

    const apiKey = ensureApiKey(layout);
    const rerank = rerankChoice(o.rerank, described);
    log("orchestrator", `reranking ${rerank.reason}`);
    const page = `http://127.0.0.1:${o.ports.orchestrator}/`;
    await step("orchestrator", `the orchestrator on ${page}`, async () => {
      const env = orchestratorEnv({ alias: o.alias, ports: o.ports, layout, user: o.userEnv, rerank: rerank.enabled });
      const { service } = await startService(
        "orchestrator",
        process.execPath,
        [path.join(o.root, "k8s", "orchestrator", "dist", "main.js")],
        {
          cwd: o.root,
          // Only the variables it is given: a DASHSCOPE_API_KEY the user did not mean for it stays out.
          env: { ...childEnv, ...withoutDashscope(process.env), ...env },
          inheritEnv: false,
          ready: /Server listening at/,
          timeoutMs: 60_000,
          logFile: path.join(layout.runLogs, "orchestrator.log"),
        },
      );
      services.push(service);
      await waitReady(page, apiKey, probeQuery(docs), rerank.enabled ? "applied" : "off", log);
    });

    const description = stackDescription({
      ports: o.ports,
      layout,
      torchserve,
      models: described,
      alias: o.alias,
      docs,
    });
    writeFileSync(layout.stackFile, `${JSON.stringify(description, null, 2)}\n`);
    return { description, pageUrl: page, apiKey, ingest, rerank, timings, stop };
  } catch (error) {
    log("stop", `start failed; stopping what was started`);
    await stop();
    throw error;
  }
}

function withoutDashscope(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter(([k, v]) => v !== undefined && !k.startsWith("DASHSCOPE_") && k !== "CHAT_MODEL"),
  ) as Record<string, string>;
}

/**
 * <work>/source/raw/<entry> -> each entry of the documents folder: the bucket's raw/ prefix for the
 * backbone's FolderSource. Hidden entries (".complete" markers, ".git") are not documents.
 */
function linkSource(layout: WorkLayout, docs: string) {
  const raw = path.join(layout.source, "raw");
  rmSync(raw, { recursive: true, force: true });
  mkdirSync(raw, { recursive: true });
  for (const entry of readdirSync(docs)) {
    if (!entry.startsWith(".")) symlinkSync(path.join(docs, entry), path.join(raw, entry));
  }
}

function writeRendered(layout: WorkLayout, models: LocalModels, inference: string) {
  mkdirSync(path.dirname(layout.profileFile), { recursive: true });
  writeFileSync(layout.profileFile, `${JSON.stringify(localProfile(models), null, 2)}\n`);
  writeFileSync(layout.endpointsFile, `${JSON.stringify(localEndpoints(inference, models), null, 2)}\n`);
}

/** The local API key: kept across starts (a page that has it keeps working), readable by the owner only. */
function ensureApiKey(layout: WorkLayout): string {
  let key = existsSync(layout.apiKeyFile) ? readFileSync(layout.apiKeyFile, "utf8").trim() : "";
  if (!/^[A-Za-z0-9_-]{32,}$/.test(key)) {
    key = `sbl_${randomBytes(32).toString("base64url")}`;
    writeFileSync(layout.apiKeyFile, `${key}\n`, { mode: 0o600 });
  }
  chmodSync(layout.apiKeyFile, 0o600);
  mkdirSync(path.dirname(layout.apiKeysFile), { recursive: true });
  const sha256 = createHash("sha256").update(key, "utf8").digest("hex");
  writeFileSync(layout.apiKeysFile, `${JSON.stringify([{ id: "local", sha256 }])}\n`, { mode: 0o600 });
  return key;
}

/** /readyz answers 200 and a search returns hits found by both engines. */
async function waitReady(
  page: string,
  apiKey: string,
  query: string,
  rerank: "applied" | "off",
  log: Log,
  timeoutMs = 120_000,
) {
  const end = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < end) {
    try {
      const ready = await fetch(new URL("readyz", page), { signal: AbortSignal.timeout(5000) });
      if (ready.status !== 200) last = `/readyz answered ${ready.status}: ${await ready.text()}`;
      else {
        const r = await fetch(new URL("v1/search", page), {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${apiKey}` },
          body: JSON.stringify({ query }),
          signal: AbortSignal.timeout(20_000),
        });
        const body = (await r.json()) as any;
        const engines = new Set<string>((body.results ?? []).flatMap((x: any) => x.engines ?? []));
        if (r.status === 200 && engines.has("opensearch") && engines.has("elasticsearch") && body.rerank === rerank) {
          log(
            "orchestrator",
            `search ${JSON.stringify(query)}: ${body.results.length} hits from both engines (rerank ${body.rerank})`,
          );
          return;
        }
        last = `search ${JSON.stringify(query)} answered ${r.status} with engines [${[...engines].join(", ")}]: ${JSON.stringify(body).slice(0, 400)}`;
      }
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new StartError(`the orchestrator did not become ready: ${last}`);
}
