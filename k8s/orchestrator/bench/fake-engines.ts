import type { IncomingMessage, ServerResponse } from "node:http";
import { listen, readBody } from "@search-backbone/test-engines";

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

/**
 * At most `capacity` requests served at once, the rest waiting in arrival order: an engine that has
 * more work than it can do answers later, not less (unlimited when `capacity` is undefined).
 */
export class Capacity {
  private busy = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly capacity: number | undefined) {}
  async acquire(): Promise<void> {
    if (this.capacity === undefined) return;
    if (this.busy < this.capacity) {
      this.busy++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
  release(): void {
    if (this.capacity === undefined) return;
    const next = this.waiting.shift();
    if (next) next();
    else this.busy--;
  }
}

type Answer = { status?: number; headers?: Record<string, string>; text: string; latencyMs?: number };

function fixed(
  latencyMs: number,
  lag: Lag,
  answer: (req: IncomingMessage, body: string) => Answer,
  capacity = new Capacity(undefined),
) {
  return async (req: IncomingMessage, res: ServerResponse) => {
    const body = (await readBody(req)).toString("utf8");
    const { status = 200, headers = {}, text, latencyMs: own } = answer(req, body);
    const latency = own ?? latencyMs;
    await capacity.acquire();
    const t0 = performance.now();
    try {
      await sleep(latency);
    } finally {
      capacity.release();
    }
    lag.record(performance.now() - t0 - latency);
    res.writeHead(status, {
      "Content-Type": "application/json",
      "Content-Length": Buffer.byteLength(text),
      ...headers,
    });
    res.end(text);
  };
}

/**
 * `depth` canned hits per `_search` (ids overlapping between sub-queries and engines, as real results
 * do). A request with `filter_path` (the service's) gets what the engine would answer to it: ids and
 * scores for a multi-search, `_id`/`found`/`_source` for a multi-get; one without gets the full page
 * with each hit's text (what the service before the cut asked for). `_mget` answers after `fetchMs`.
 */
export async function startFakeEngine(
  kind: "elasticsearch" | "opensearch",
  latencyMs: number,
  lag: Lag,
  dims: number,
  options: { depth?: number; fetchMs?: number; capacity?: number } = {},
) {
  const depth = options.depth ?? 50;
  const source = (n: number) => ({
    content: `document ${n} ${"lorem ipsum dolor sit amet ".repeat(12)}`,
    title: `doc ${n}`,
    source_key: `raw/doc-${Math.floor(n / 3)}.md`,
    chunk_no: n % 3,
    // Public, as ingestion writes a document without a sidecar under DEFAULT_ACCESS=public.
    access: ["public"],
  });
  const hits = (salt: number, lean: boolean) =>
    Array.from({ length: depth }, (_, i) => {
      const n = (i * 7 + salt) % (depth * 2);
      return lean
        ? { _id: `chunk-${n}`, _score: 10 - i * 0.1 }
        : { _index: "chunks-v1", _id: `chunk-${n}`, _score: 10 - i * 0.1, _source: source(n) };
    });
  const page = (salt: number, lean: boolean) =>
    JSON.stringify(
      lean
        ? { hits: { hits: hits(salt, true) } }
        : {
            took: latencyMs,
            timed_out: false,
            hits: { total: { value: depth, relation: "eq" }, hits: hits(salt, false) },
          },
    );
  const pages = { full: { b: page(0, false), k: page(3, false) }, lean: { b: page(0, true), k: page(3, true) } };
  // `_msearch`: NDJSON, a header line then a body line per search; one sub-response per body, each
  // the same page a plain `_search` gets, with its status (the engines' multi-search response).
  const item = (text: string) => `${text.slice(0, -1)},"status":200}`;
  const rendered = new Map<string, string>();
  const msearch = (ndjson: string, lean: boolean) => {
    const bodies = ndjson.split("\n").filter((line, i) => i % 2 === 1 && line.length > 0);
    const kinds = `${lean ? "l" : "f"}${bodies.map((b) => (b.includes('"knn"') ? "k" : "b")).join("")}`;
    let text = rendered.get(kinds);
    if (!text) {
      const set = lean ? pages.lean : pages.full;
      const items = [...kinds.slice(1)].map((k) => item(k === "k" ? set.k : set.b)).join(",");
      text = lean ? `{"responses":[${items}]}` : `{"took":${latencyMs},"responses":[${items}]}`;
      rendered.set(kinds, text);
    }
    return text;
  };
  const docs = new Map<string, string>();
  const doc = (id: string) => {
    let text = docs.get(id);
    if (!text) {
      text = JSON.stringify({ _id: id, found: true, _source: source(Number(id.slice("chunk-".length))) });
      docs.set(id, text);
    }
    return text;
  };
  const mget = (body: string) => `{"docs":[${(JSON.parse(body).ids as string[]).map(doc).join(",")}]}`;
  const bm25 = pages.full.b;
  const knn = pages.full.k;
  const alias = JSON.stringify({ "chunks-v1": { aliases: { chunks: {} } } });
  const mapping = JSON.stringify({ "chunks-v1": { mappings: { _meta: { embedding_model: "hash", dims } } } });
  const info = JSON.stringify({ name: kind, version: { number: kind === "elasticsearch" ? "8.17.0" : "3.6.0" } });
  // The Elasticsearch client insists on the product header.
  const headers: Record<string, string> = kind === "elasticsearch" ? { "x-elastic-product": "Elasticsearch" } : {};
  return listen(
    fixed(
      latencyMs,
      lag,
      (req, body): Answer => {
        const url = req.url ?? "";
        if (url.includes("_mget")) return { headers, text: mget(body), latencyMs: options.fetchMs ?? latencyMs };
        if (url.includes("_msearch")) return { headers, text: msearch(body, url.includes("filter_path")) };
        if (url.includes("_search")) return { headers, text: body.includes('"knn"') ? knn : bm25 };
        if (url.includes("_alias")) return { headers, text: alias };
        if (url.includes("_mapping")) return { headers, text: mapping };
        return { headers, text: info };
      },
      new Capacity(options.capacity),
    ),
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
 * @search-backbone/test-engines (dashscope.ts), with pre-rendered chunks). `firstTokenMs` can be changed while running.
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
