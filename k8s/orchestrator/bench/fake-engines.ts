import type { IncomingMessage, ServerResponse } from "node:http";
import { listen, readBody } from "../test/fakes/http";

/**
 * Dependencies of fixed latency for the benchmark. Each answers `latencyMs` after the request body has
 * arrived, with a body rendered once at start-up, so a fake costs next to nothing per call and its
 * latency stays what it claims even at 128 concurrent requests. Each fake records how late its timer
 * fired (`lag`), which the benchmark prints: a fake that cannot keep its latency shows it there.
 */

export class Lag {
  readonly samples: number[] = [];
  record(ms: number) {
    if (this.samples.length < 200_000) this.samples.push(ms);
  }
  reset() {
    this.samples.length = 0;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function fixed(
  latencyMs: number,
  lag: Lag,
  answer: (req: IncomingMessage, body: string) => { status?: number; headers?: Record<string, string>; text: string },
) {
  return async (req: IncomingMessage, res: ServerResponse) => {
    const body = (await readBody(req)).toString("utf8");
    const t0 = performance.now();
    await sleep(latencyMs);
    lag.record(performance.now() - t0 - latencyMs);
    const { status = 200, headers = {}, text } = answer(req, body);
    res.writeHead(status, {
      "Content-Type": "application/json",
      "Content-Length": Buffer.byteLength(text),
      ...headers,
    });
    res.end(text);
  };
}

/** `depth` canned hits per `_search` (ids overlapping between sub-queries and engines, as real results do). */
export async function startFakeEngine(
  kind: "elasticsearch" | "opensearch",
  latencyMs: number,
  lag: Lag,
  dims: number,
  depth = 50,
) {
  const hits = (salt: number) =>
    Array.from({ length: depth }, (_, i) => {
      const n = (i * 7 + salt) % (depth * 2);
      return {
        _index: "chunks-v1",
        _id: `chunk-${n}`,
        _score: 10 - i * 0.1,
        _source: {
          content: `document ${n} ${"lorem ipsum dolor sit amet ".repeat(12)}`,
          title: `doc ${n}`,
          source_key: `raw/doc-${Math.floor(n / 3)}.md`,
          chunk_no: n % 3,
        },
      };
    });
  const page = (salt: number) =>
    JSON.stringify({
      took: latencyMs,
      timed_out: false,
      hits: { total: { value: depth, relation: "eq" }, hits: hits(salt) },
    });
  const bm25 = page(0);
  const knn = page(3);
  // `_msearch`: NDJSON, a header line then a body line per search; one sub-response per body, each
  // the same page a plain `_search` gets, with its status (the engines' multi-search response).
  const item = (text: string) => `${text.slice(0, -1)},"status":200}`;
  const rendered = new Map<string, string>();
  const msearch = (ndjson: string) => {
    const bodies = ndjson.split("\n").filter((line, i) => i % 2 === 1 && line.length > 0);
    const kinds = bodies.map((b) => (b.includes('"knn"') ? "k" : "b")).join("");
    let text = rendered.get(kinds);
    if (!text) {
      text = `{"took":${latencyMs},"responses":[${[...kinds].map((k) => item(k === "k" ? knn : bm25)).join(",")}]}`;
      rendered.set(kinds, text);
    }
    return text;
  };
  const alias = JSON.stringify({ "chunks-v1": { aliases: { chunks: {} } } });
  const mapping = JSON.stringify({ "chunks-v1": { mappings: { _meta: { embedding_model: "hash", dims } } } });
  const info = JSON.stringify({ name: kind, version: { number: kind === "elasticsearch" ? "8.17.0" : "3.6.0" } });
  // The Elasticsearch client insists on the product header.
  const headers: Record<string, string> = kind === "elasticsearch" ? { "x-elastic-product": "Elasticsearch" } : {};
  return listen(
    fixed(latencyMs, lag, (req, body) => {
      const url = req.url ?? "";
      if (url.includes("_msearch")) return { headers, text: msearch(body) };
      if (url.includes("_search")) return { headers, text: body.includes('"knn"') ? knn : bm25 };
      if (url.includes("_alias")) return { headers, text: alias };
      if (url.includes("_mapping")) return { headers, text: mapping };
      return { headers, text: info };
    }),
  );
}

/** The model-endpoint contract (OpenAI embeddings, Cohere rerank) with constant answers. */
export async function startFakeModels(latencyMs: number, lag: Lag, dims: number) {
  const vector = Array.from({ length: dims }, (_, i) => (i % 2 ? 1 : -1) / Math.sqrt(dims));
  const embedding = JSON.stringify({
    object: "list",
    model: "bench",
    data: [{ object: "embedding", index: 0, embedding: vector }],
  });
  const rerank = new Map<number, string>();
  const rerankOf = (n: number) => {
    let text = rerank.get(n);
    if (!text) {
      const results = Array.from(
        { length: n },
        (_, i) => `{"index":${i},"relevance_score":${(1 - i / (n + 1)).toFixed(6)}}`,
      );
      text = `{"results":[${results.join(",")}]}`;
      rerank.set(n, text);
    }
    return text;
  };
  const fake = await listen(
    fixed(latencyMs, lag, (req, body) => {
      if (req.url?.endsWith("/v1/embeddings")) return { text: embedding };
      if (req.url === "/v1/rerank") return { text: rerankOf((JSON.parse(body).documents as unknown[]).length) };
      return { status: 404, text: JSON.stringify({ error: `no route ${req.url}` }) };
    }),
  );
  return { ...fake, embeddingUrl: `${fake.url}/d/${dims}/v1/embeddings`, rerankUrl: `${fake.url}/v1/rerank` };
}

/**
 * DashScope's OpenAI-compatible streaming chat completions: the first token `firstTokenMs` after the
 * request, then `tokens - 1` more `tokenMs` apart, then `[DONE]` (the same wire format as
 * test/fakes/dashscope.ts, with pre-rendered chunks). `firstTokenMs` can be changed while running.
 */
export async function startFakeChat(options: { firstTokenMs: number; tokenMs: number; tokens: number }, lag: Lag) {
  const chunk = (delta: object, finish: string | null) =>
    `data: ${JSON.stringify({ id: "chatcmpl-bench", object: "chat.completion.chunk", created: 0, model: "bench", choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
  const token = chunk({ content: " word" }, null);
  const last = `${chunk({}, "stop")}data: [DONE]\n\n`;
  const fake = await listen(async (req, res) => {
    await readBody(req);
    res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache" });
    const t0 = performance.now();
    const first = options.firstTokenMs;
    await sleep(first);
    lag.record(performance.now() - t0 - first);
    res.write(token);
    for (let i = 1; i < options.tokens; i++) {
      await sleep(options.tokenMs);
      res.write(token);
    }
    res.end(last);
  });
  return { ...fake, baseURL: `${fake.url}/compatible-mode/v1` };
}
