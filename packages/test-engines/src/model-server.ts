import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A local HTTP server implementing the model-endpoint contract with deterministic models:
 * - POST /d/<dims>/v1/embeddings (OpenAI shape): feature-hashed bag of words, L2-normalised, plus a
 *   small text-specific component so no two texts tie and no vector is zero;
 * - POST /v1/rerank (Cohere shape): share of query terms in the document, tie-broken by a hash.
 * Limits are enforced with 400 JSON errors, like the real handlers. `latencyMs` delays every call
 * (the benchmark's fixed-latency endpoint).
 */
export interface ModelServerOptions {
  readonly latencyMs?: number;
  readonly maxBatch?: number;
  readonly maxChars?: number;
}

export interface ModelServer {
  readonly url: string;
  embeddingUrl(dims: number): string;
  readonly rerankUrl: string;
  readonly stats: {
    embedCalls: number;
    embedInputs: number;
    rerankCalls: number;
    maxInFlight: number;
    /** Epoch ms when the first embedding request arrived and the last one was answered. */
    firstEmbedAt: number;
    lastEmbedAt: number;
  };
  /** Changes the delay of every later call. */
  setLatency(ms: number): void;
  close(): Promise<void>;
}

/**
 * Words of letters or digits; a run of Han characters, written without spaces between words, counts
 * as its overlapping character pairs (a lone character as itself), so Chinese texts embed and rerank
 * by their content too. Texts without Han characters tokenize as before.
 */
const tokens = (text: string): string[] =>
  (text.toLowerCase().match(/\p{Script=Han}+|(?:(?!\p{Script=Han})[\p{L}\p{N}])+/gu) ?? []).flatMap((word) => {
    const chars = [...word];
    if (chars.length < 2 || !/\p{Script=Han}/u.test(word)) return [word];
    return chars.slice(1).map((char, i) => `${chars[i]}${char}`);
  });

function hashInt(text: string): number {
  return createHash("sha256").update(text).digest().readUInt32BE(0);
}

export function embed(text: string, dims: number): number[] {
  const v = new Array<number>(dims).fill(0);
  for (const token of tokens(text)) {
    const h = hashInt(token);
    v[h % dims]! += h & 1 ? 1 : -1;
    v[(h >>> 8) % dims]! += h & 2 ? 0.5 : -0.5;
  }
  const digest = createHash("sha256").update(text).digest();
  for (let i = 0; i < dims; i++) v[i]! += ((digest[i % digest.length]! / 255) * 2 - 1) * 0.05;
  const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0)) || 1;
  return v.map((x) => x / norm);
}

export function rerankScore(query: string, document: string): number {
  const q = new Set(tokens(query));
  const d = new Set(tokens(document));
  const hits = [...q].filter((t) => d.has(t)).length;
  return hits / Math.max(1, q.size) + ((hashInt(`${query}\u0000${document}`) % 1000) + 1) / 1e5;
}

function send(res: ServerResponse, status: number, body: unknown) {
  const text = JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<any> {
  const parts: Buffer[] = [];
  for await (const part of req) parts.push(part as Buffer);
  return JSON.parse(Buffer.concat(parts).toString("utf8") || "{}");
}

export async function startModelServer(options: ModelServerOptions = {}): Promise<ModelServer> {
  const maxBatch = options.maxBatch ?? 256;
  const maxChars = options.maxChars ?? 8192;
  const stats = { embedCalls: 0, embedInputs: 0, rerankCalls: 0, maxInFlight: 0, firstEmbedAt: 0, lastEmbedAt: 0 };
  let inFlight = 0;
  let latencyMs = options.latencyMs ?? 0;
  const server: Server = createServer(async (req, res) => {
    inFlight++;
    stats.maxInFlight = Math.max(stats.maxInFlight, inFlight);
    try {
      let body: any;
      try {
        body = await readJson(req);
      } catch {
        return send(res, 400, { error: "request body is not JSON" });
      }
      if (req.method === "POST" && req.url === "/admin/latency") {
        latencyMs = Number(body.ms) || 0;
        Object.assign(stats, {
          embedCalls: 0,
          embedInputs: 0,
          rerankCalls: 0,
          maxInFlight: 0,
          firstEmbedAt: 0,
          lastEmbedAt: 0,
        });
        return send(res, 200, { latencyMs });
      }
      if (req.method === "POST" && req.url === "/admin/stats") return send(res, 200, stats);
      const arrived = Date.now();
      if (latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, latencyMs));
      const embedPath = /^\/d\/(\d+)\/v1\/embeddings$/.exec(req.url ?? "");
      if (req.method === "POST" && embedPath) {
        const dims = Number(embedPath[1]);
        const input = typeof body.input === "string" ? [body.input] : body.input;
        if (!Array.isArray(input) || input.length === 0)
          return send(res, 400, { error: "input must be a non-empty array of strings" });
        if (input.length > maxBatch) return send(res, 400, { error: `too many items: ${input.length} > ${maxBatch}` });
        if (input.some((t: unknown) => typeof t !== "string"))
          return send(res, 400, { error: "input items must be strings" });
        if (input.some((t: string) => t.length > maxChars))
          return send(res, 400, { error: `item longer than ${maxChars} characters` });
        stats.embedCalls++;
        stats.embedInputs += input.length;
        if (!stats.firstEmbedAt) stats.firstEmbedAt = arrived;
        stats.lastEmbedAt = Date.now();
        return send(res, 200, {
          object: "list",
          model: body.model ?? "hash-embedder",
          data: input.map((text: string, index: number) => ({
            object: "embedding",
            index,
            embedding: embed(text, dims),
          })),
        });
      }
      if (req.method === "POST" && req.url === "/v1/rerank") {
        if (typeof body.query !== "string" || !Array.isArray(body.documents)) {
          return send(res, 400, { error: "expected query (string) and documents (string[])" });
        }
        stats.rerankCalls++;
        const results = body.documents
          .map((doc: string, index: number) => ({ index, score: rerankScore(body.query, String(doc)) }))
          .sort((a: any, b: any) => b.score - a.score)
          .slice(0, body.top_n ?? body.documents.length);
        // Scores as JSON floats with a decimal point, as Python's json writes them: OpenSearch's
        // cohere post-process casts each score to Double and fails on an integer-looking 0 or 1
        // (ClassCastException Integer -> Double, seen on 3.6) and on long decimals it reads as BigDecimal.
        const text = `{"results":[${results.map((r: any) => `{"index":${r.index},"relevance_score":${r.score.toFixed(6)}}`).join(",")}]}`;
        res.writeHead(200, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
        return res.end(text);
      }
      return send(res, 404, { error: `no route ${req.method} ${req.url}` });
    } finally {
      inFlight--;
    }
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    embeddingUrl: (dims) => `${url}/d/${dims}/v1/embeddings`,
    rerankUrl: `${url}/v1/rerank`,
    stats,
    setLatency: (ms) => {
      latencyMs = ms;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Run as its own process (the benchmark does, so the endpoint's timing is not the client's event loop). */
if (require.main === module) {
  const maxBatch = Number(process.argv[2] ?? 256);
  startModelServer({ maxBatch }).then((server) => {
    process.stdout.write(`${server.url}\n`);
    process.on("SIGTERM", () => server.close().then(() => process.exit(0)));
  });
}
