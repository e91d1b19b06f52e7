import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { Writable } from "node:stream";
import { promisify } from "node:util";
import { gunzipSync } from "node:zlib";
import {
  DEFAULT_PROFILE,
  type DefaultAccess,
  ModelClient,
  type ModelEndpoints,
  type RelevanceProfile,
} from "@search-backbone/relevance";
import {
  acquireEngines,
  corpusDocuments,
  ENGINES_SCRIPT,
  type Engines,
  type ModelServer,
  writeCorpus,
} from "@search-backbone/test-engines";
// Reused from the search jobs: their setup and ingestion.
import { type IngestReport, ingest } from "search-backbone-jobs/ingest/ingest";
import { FolderSource } from "search-backbone-jobs/ingest/source";
import { esStore, osStore } from "search-backbone-jobs/ingest/stores";
import { runSetup } from "search-backbone-jobs/setup/index";
import { type AppOverrides, createApp } from "../src/app";
import { loadConfig } from "../src/config";
import { hashKey } from "../src/plugins/auth";

export const ALIAS = "orch-chunks";
export const DIMS = 64;
export const PROFILE: RelevanceProfile = {
  ...DEFAULT_PROFILE,
  embedding: { model: "hash-embedder", dims: DIMS },
  rerank: { model: "overlap-reranker" },
  candidateDepth: 50,
  rerankWindow: 20,
  topK: 8,
};

/** Secrets of the run; the log test checks that none of them ever appears in a log line. */
export const SECRETS = {
  apiKey: "orch-test-key-7f3a9c1e5b2d4a6f8e0c2b4d6f8a0c1e",
  limitedKey: "orch-limited-key-1b2c3d4e5f60718293a4b5c6d7e8f901",
  dashscope: "sk-dashscope-test-5e6f7a8b9c0d1e2f",
  akId: "LTAI-test-access-key-id",
  akSecret: "akSecret-test-9d8c7b6a5f4e3d2c1b0a",
  esPassword: "es-password-test-31415926",
  osPassword: "os-password-test-27182818",
};

// Ports of their own, so the search suite's nodes (9250/9260) and ours never stop each other.
export const ENGINE_PORTS = { OS_PORT: "9270", OS_TRANSPORT_PORT: "9370", ES_PORT: "9280", ES_TRANSPORT_PORT: "9380" };

const run = promisify(execFile);

/**
 * The nodes are started asynchronously here (acquireEngines' synchronous start would block the test
 * worker for minutes, and vitest's worker RPC times out); acquireEngines then finds them running.
 * Under CI=true an engine that cannot be started fails the suite.
 */
export async function engines(): Promise<Engines | undefined> {
  Object.assign(process.env, ENGINE_PORTS);
  let startedHere = false;
  if (!process.env.ELASTICSEARCH_URL || !process.env.OPENSEARCH_URL) {
    try {
      const { stdout } = await run("bash", [ENGINES_SCRIPT, "env"]);
      if (!/ELASTICSEARCH_URL/.test(stdout) || !/OPENSEARCH_URL/.test(stdout)) {
        const started = await run("bash", [ENGINES_SCRIPT, "start", "all"], { timeout: 900_000 });
        process.stderr.write(started.stderr);
        startedHere = true;
      }
    } catch (error) {
      if (process.env.CI === "true")
        throw new Error(`search engines could not be started: ${(error as Error).message}`);
      return undefined;
    }
  }
  const found = await acquireEngines();
  return found && { ...found, startedHere: found.startedHere || startedHere };
}

/** Stops the suite's engine pair (only when this run started it). */
export function stopEngines(): void {
  execFileSync("bash", [ENGINES_SCRIPT, "stop", "all"], { stdio: "inherit", env: { ...process.env, ...ENGINE_PORTS } });
}

export async function seedBackbone(
  e: Engines,
  models: ModelServer,
  documents = 40,
  options: { base?: string; profile?: RelevanceProfile; corpusDir?: string; defaultAccess?: DefaultAccess } = {},
): Promise<{ corpusDir: string; endpoints: ModelEndpoints; ingestAgain: () => Promise<IngestReport> }> {
  const base = options.base ?? ALIAS;
  const profile = options.profile ?? PROFILE;
  const dims = profile.embedding.dims;
  const endpoints: ModelEndpoints = {
    embedding: {
      url: models.embeddingUrl(dims),
      model: profile.embedding.model,
      protocol: "contract",
      dims,
      authSecret: null,
    },
    rerank: { url: models.rerankUrl, model: profile.rerank.model, protocol: "contract", dims: null, authSecret: null },
  };
  const client = new ModelClient({ endpoints, maxBatch: 32, concurrency: 2 });
  await runSetup(e, client, { base, profile, endpoints });
  const corpusDir = options.corpusDir ?? mkdtempSync(path.join(tmpdir(), "orch-corpus-"));
  if (!options.corpusDir) writeCorpus(corpusDir, corpusDocuments(documents));
  // The suite's corpus has no sidecars: public, as npm start ingests (the cluster's default is deny).
  const ingestAgain = () =>
    ingest(new FolderSource(corpusDir), [esStore(e.es), osStore(e.os)], client, {
      base,
      profile,
      prefix: "raw/",
      defaultAccess: options.defaultAccess ?? "public",
      chunking: { maxChars: 400, overlapChars: 60 },
    });
  await ingestAgain();
  return { corpusDir, endpoints, ingestAgain };
}

/** Every log line of every app in the run, for the secret check. */
export const logLines: string[] = [];
const logStream = new Writable({
  write(chunk, _encoding, done) {
    logLines.push(...chunk.toString("utf8").split("\n").filter(Boolean));
    done();
  },
});

export interface AppHandle {
  readonly url: string;
  readonly app: Awaited<ReturnType<typeof createApp>>;
  readonly eventDir: string;
  call(method: string, route: string, body?: unknown, headers?: Record<string, string>): Promise<Response>;
}

/** The URLs of the suite's engine pair (scripts/engines.sh on ENGINE_PORTS, or the environment's). */
export function engineUrls(): { esUrl: string; osUrl: string } {
  const env = execFileSync("bash", [ENGINES_SCRIPT, "env"], {
    encoding: "utf8",
    env: { ...process.env, ...ENGINE_PORTS },
  });
  return {
    esUrl: /ELASTICSEARCH_URL=(\S+)/.exec(env)?.[1] ?? process.env.ELASTICSEARCH_URL ?? "",
    osUrl: /OPENSEARCH_URL=(\S+)/.exec(env)?.[1] ?? process.env.OPENSEARCH_URL ?? "",
  };
}

export async function startApp(options: {
  esUrl: string;
  osUrl: string;
  endpoints: ModelEndpoints;
  /** The chat model's (DashScope's) base URL; without it the app answers extractively. */
  chatBaseURL?: string;
  airecEndpoint?: string;
  env?: Record<string, string>;
  overrides?: AppOverrides;
}): Promise<AppHandle> {
  const dir = mkdtempSync(path.join(tmpdir(), "orch-app-"));
  const file = (name: string, value: unknown) => {
    const p = path.join(dir, name);
    writeFileSync(p, JSON.stringify(value));
    return p;
  };
  const eventDir = path.join(dir, "bucket");
  const env: Record<string, string> = {
    PORT: "0",
    HOST: "127.0.0.1",
    LOG_LEVEL: "info",
    PROFILE_FILE: file("profile.json", PROFILE),
    ENDPOINTS_FILE: file("endpoints.json", options.endpoints),
    API_KEYS_FILE: file("api-keys.json", [
      { id: "test", sha256: hashKey(SECRETS.apiKey) },
      { id: "limited", sha256: hashKey(SECRETS.limitedKey), ratePerMinute: 3 },
    ]),
    INDEX_ALIAS: ALIAS,
    DOC_URI_PREFIX: "oss://docs-bucket/",
    ELASTICSEARCH_URL: options.esUrl,
    ELASTICSEARCH_USERNAME: "elastic",
    ELASTICSEARCH_PASSWORD: SECRETS.esPassword,
    OPENSEARCH_URL: options.osUrl,
    OPENSEARCH_USERNAME: "admin",
    OPENSEARCH_PASSWORD: SECRETS.osPassword,
    ...(options.chatBaseURL
      ? { DASHSCOPE_BASE_URL: options.chatBaseURL, DASHSCOPE_API_KEY: SECRETS.dashscope, CHAT_MODEL: "qwen-plus" }
      : {}),
    EVENT_LOG_FOLDER: eventDir,
    TELEMETRY_FLUSH_MS: "100",
    ALIBABA_CLOUD_ACCESS_KEY_ID: SECRETS.akId,
    ALIBABA_CLOUD_ACCESS_KEY_SECRET: SECRETS.akSecret,
    ...(options.airecEndpoint
      ? {
          AIREC_ENABLED: "true",
          AIREC_ENDPOINT: options.airecEndpoint,
          AIREC_PROTOCOL: "http",
          AIREC_INSTANCE_ID: "airec-cn-test",
          AIREC_SCENE_ID: "home",
        }
      : {}),
    ...options.env,
  };
  const app = await createApp(loadConfig(env), {
    logStream,
    telemetryBackoff: { startingDelay: 50, maxDelay: 200, attempts: 2 },
    ...options.overrides,
  });
  const address = await app.server.listen({ port: 0, host: "127.0.0.1" });
  return {
    url: address,
    app,
    eventDir,
    call: (method, route, body, headers) =>
      fetch(`${address}${route}`, {
        method,
        headers: {
          authorization: `Bearer ${SECRETS.apiKey}`,
          ...(body !== undefined ? { "content-type": "application/json" } : {}),
          ...headers,
        },
        ...(body !== undefined ? { body: typeof body === "string" ? body : JSON.stringify(body) } : {}),
      }),
  };
}

/** Parses an SSE body into its events, in order (the test's own minimal reader of what the service wrote). */
export function sseEvents(text: string): { event: string; data: any }[] {
  return text
    .split("\n\n")
    .filter((block) => block.trim())
    .map((block) => {
      const event = /^event: (.*)$/m.exec(block)?.[1] ?? "message";
      const data = /^data: (.*)$/m.exec(block)?.[1] ?? "null";
      return { event, data: JSON.parse(data) };
    });
}

/** The event log's lines under `prefix` of a FolderStore root (gzipped JSONL batches), in key order. */
export const eventLog = (root: string, prefix = "logs/events") => {
  const dir = path.join(root, ...prefix.split("/"));
  const files = (readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.endsWith(".jsonl.gz")).sort();
  return files.flatMap((f) =>
    gunzipSync(readFileSync(path.join(dir, f)))
      .toString("utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l)),
  );
};
