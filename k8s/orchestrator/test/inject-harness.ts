import { Writable } from "node:stream";
import { gunzipSync } from "node:zlib";
import type { RetrieveOptions } from "../src/answers";
import { ChatLog, type ChatTurn, chatLogSink } from "../src/chat-log";
import type { ObjectStore } from "../src/event-log";
import type { ChatMessage, Generator } from "../src/generation";
import type { JwtVerifier } from "../src/identity";
import { createMetrics } from "../src/metrics";
import { hashKey } from "../src/plugins/auth";
import type { RecItem, RecRequest, RecResult } from "../src/recommendations";
import type { Retrieval, RetrievedHit } from "../src/retrieval";
import { buildServer, type ServerDeps } from "../src/server";
import { Telemetry } from "../src/telemetry";

/**
 * The HTTP layer on its own: buildServer with the real metrics, telemetry bookkeeping and schemas,
 * and scripted stand-ins for what lies behind it (retrieval, recommendations, generation, the
 * engines' alias check). Requests go through `app.inject`, so no port is opened. The engines suite
 * (orchestrator.engines.test.ts) covers the same routes against the real dependencies.
 */

export const KEYS = {
  main: "inject-key-main",
  limited: "inject-key-limited",
  finance: "inject-key-finance",
  backend: "inject-key-backend",
};
export const AUTH = { authorization: `Bearer ${KEYS.main}` };

export const hit = (n: number, extra: Partial<RetrievedHit> = {}): RetrievedHit => ({
  id: `doc${n}.md#0`,
  docId: `doc${n}.md`,
  sourceKey: `raw/doc${n}.md`,
  title: `Doc ${n}`,
  content: `content of document ${n} `.repeat(30),
  chunkNo: 0,
  access: ["public"],
  score: 1 - n / 10,
  engines: ["elasticsearch", "opensearch"],
  scores: { fused: 0.9 - n / 10, rerank: 1 - n / 10, elasticsearch: 0.8, opensearch: 0.7 },
  ...extra,
});

/** What the stand-ins do; a test changes a field to script a failure. */
export interface Script {
  retrieve: (text: string, options?: RetrieveOptions) => Promise<Retrieval>;
  recommend: (request: RecRequest) => Promise<RecResult>;
  tokens: (messages: ChatMessage[]) => AsyncIterable<string>;
  aliasExists: { es: () => Promise<boolean>; os: () => Promise<boolean> };
}

/** The one item the default recommender gives. */
export const BACKBONE_ITEM: RecItem = {
  docId: "doc7.md",
  title: "Doc 7",
  uri: "oss://b/raw/doc7.md",
  source: "backbone",
  strategy: "popular",
  traceId: "bb-req-1",
};

export const defaultScript = (): Script => ({
  retrieve: async () => ({
    hits: [hit(1), hit(2)],
    vector: [0.1, 0.2],
    degraded: false,
    warnings: [],
    rerank: "applied",
  }),
  recommend: async (request) => ({
    requestId: "bb-req-1",
    items: [BACKBONE_ITEM].slice(0, request.count),
    degraded: false,
    warnings: [],
  }),
  tokens: async function* () {
    yield "Hello ";
    yield "[1]";
  },
  aliasExists: { es: async () => true, os: async () => true },
});

/** The object store's writes, kept in memory: key and bytes. */
export class MemoryStore implements ObjectStore {
  readonly puts: { key: string; body: Buffer }[] = [];
  async put(key: string, body: Buffer): Promise<void> {
    this.puts.push({ key, body });
  }
}

export const CHAT_MODEL = "qwen-test-model";

/** `extractive`: no chat model, as without DASHSCOPE_API_KEY. `chatLog: false`: CHAT_LOG_ENABLED=false. */
export async function injectApp(
  options: {
    bodyLimit?: number;
    extractive?: boolean;
    jwt?: JwtVerifier;
    chatLog?: boolean;
    generator?: Generator;
  } = {},
) {
  const script = defaultScript();
  const logLines: string[] = [];
  const metrics = createMetrics();
  const telemetry = new Telemetry([]);
  const generator: Generator = options.generator ?? {
    model: CHAT_MODEL,
    stream: (messages) => script.tokens(messages),
  };
  const chatStore = new MemoryStore();
  const chatLog =
    options.chatLog === false
      ? undefined
      : new ChatLog(chatLogSink(chatStore, { prefix: "logs/chat/", instance: "inject" }), {
          capacity: 100,
          flushMs: 60_000,
          metrics,
        });
  /** Drains the chat log (it takes no more turns after this) and reads back every line it wrote. */
  const chatTurns = async (): Promise<ChatTurn[]> => {
    await chatLog?.close(1000);
    return chatStore.puts.flatMap((p) =>
      gunzipSync(p.body)
        .toString("utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as ChatTurn),
    );
  };
  const deps: ServerDeps = {
    retriever: { retrieve: (text, _deadline, retrieveOptions) => script.retrieve(text, retrieveOptions) },
    recommender: { recommend: (request) => script.recommend(request) },
    generator: options.extractive ? undefined : generator,
    telemetry,
    chatLog,
    metrics,
    es: { indices: { existsAlias: () => script.aliasExists.es() } } as unknown as ServerDeps["es"],
    os: {
      indices: { existsAlias: async () => ({ body: await script.aliasExists.os() }) },
    } as unknown as ServerDeps["os"],
    settings: {
      alias: "chunks",
      docUriPrefix: "oss://b/",
      apiKeys: [
        { id: "main", sha256: hashKey(KEYS.main) },
        { id: "limited", sha256: hashKey(KEYS.limited), ratePerMinute: 2 },
        { id: "finance-app", sha256: hashKey(KEYS.finance), groups: ["finance"] },
        { id: "portal", sha256: hashKey(KEYS.backend), onBehalfOf: true },
      ],
      jwt: options.jwt,
      ratePerMinute: 1000,
      bodyLimit: options.bodyLimit ?? 4096,
      budgetMs: 4000,
      engineTimeoutMs: 500,
      logLevel: "info",
      chatRecommendations: 3,
    },
    logStream: new Writable({
      write(chunk, _encoding, done) {
        logLines.push(chunk.toString());
        done();
      },
    }),
  };
  const app = await buildServer(deps);
  await app.ready();
  return { app, script, telemetry, metrics, logLines, chatStore, chatTurns };
}
