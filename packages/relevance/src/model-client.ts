import type { ModelEndpoints } from "./endpoints";

/**
 * Client of the model-endpoint contract (OpenAI embeddings, Cohere rerank). Embeds in batches of at
 * most `maxBatch` texts with up to `concurrency` calls in flight, retrying 429/5xx with backoff.
 */
export interface ModelClientOptions {
  readonly endpoints: ModelEndpoints;
  readonly maxBatch?: number;
  readonly concurrency?: number;
  readonly apiKey?: string;
  readonly retries?: number;
  /** Per-call deadline; the orchestrator sets its budget here. Unset: no deadline (batch jobs). */
  readonly timeoutMs?: number;
  /**
   * How a call goes over HTTP. Default: the global `fetch`. The orchestrator passes one on a
   * long-lived keep-alive pool of its own (undici's `request`), which on its hot path costs less
   * per call than `fetch` and its web streams.
   */
  readonly transport?: ModelTransport;
}

export interface ModelCall {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly timeoutMs?: number | undefined;
}

/** One POST: the status and the body text. Rejects on network errors and timeouts only. */
export type ModelTransport = (call: ModelCall) => Promise<{ status: number; body: string }>;

export const fetchTransport: ModelTransport = async (call) => {
  const response = await fetch(call.url, {
    method: "POST",
    headers: call.headers,
    body: call.body,
    ...(call.timeoutMs ? { signal: AbortSignal.timeout(call.timeoutMs) } : {}),
  });
  return { status: response.status, body: await response.text() };
};

export class ModelClient {
  readonly maxBatch: number;
  readonly concurrency: number;
  /** Calls made, for progress and benchmark figures. */
  calls = 0;

  constructor(private readonly options: ModelClientOptions) {
    this.maxBatch = options.maxBatch ?? 32;
    this.concurrency = options.concurrency ?? 2;
  }

  /** Embeds every text once, in order. */
  async embed(texts: readonly string[]): Promise<number[][]> {
    const batches: string[][] = [];
    for (let i = 0; i < texts.length; i += this.maxBatch) batches.push(texts.slice(i, i + this.maxBatch));
    const results: number[][][] = new Array(batches.length);
    let next = 0;
    const worker = async () => {
      while (next < batches.length) {
        const i = next++;
        results[i] = await this.embedBatch(batches[i] as string[]);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, batches.length) }, worker));
    return results.flat();
  }

  /** One call: at most maxBatch texts. */
  async embedBatch(input: string[]): Promise<number[][]> {
    const { embedding } = this.options.endpoints;
    const body = await this.post(embedding.url, { input, model: embedding.model });
    const data = (body as { data?: { index: number; embedding: number[] }[] }).data;
    if (!Array.isArray(data) || data.length !== input.length) {
      throw new Error(`embedding endpoint returned ${data?.length ?? "no"} embeddings for ${input.length} inputs`);
    }
    const vectors: number[][] = new Array(input.length);
    for (const item of data) {
      if (embedding.dims !== null && item.embedding.length !== embedding.dims) {
        throw new Error(
          `embedding endpoint returned ${item.embedding.length} dims; the profile expects ${embedding.dims} (${embedding.model})`,
        );
      }
      vectors[item.index] = item.embedding;
    }
    return vectors;
  }

  /** Reranker scores aligned with `documents`. */
  async rerank(query: string, documents: readonly string[]): Promise<number[]> {
    if (documents.length === 0) return [];
    const { rerank } = this.options.endpoints;
    const body = (await this.post(rerank.url, { query, documents, top_n: documents.length })) as {
      results?: { index: number; relevance_score: number }[];
    };
    const scores: number[] = new Array(documents.length).fill(Number.NEGATIVE_INFINITY);
    for (const r of body.results ?? []) scores[r.index] = r.relevance_score;
    return scores;
  }

  private async post(url: string, payload: unknown): Promise<unknown> {
    const retries = this.options.retries ?? 3;
    const transport = this.options.transport ?? fetchTransport;
    const headers: Record<string, string> = {
      "Content-Type": "application/json",
      ...(this.options.apiKey ? { Authorization: `Bearer ${this.options.apiKey}` } : {}),
    };
    const body = JSON.stringify(payload);
    for (let attempt = 0; ; attempt++) {
      this.calls++;
      const response = await transport({ url, headers, body, timeoutMs: this.options.timeoutMs });
      if (response.status >= 200 && response.status < 300) return JSON.parse(response.body);
      const retriable = response.status === 429 || response.status >= 500;
      if (!retriable || attempt >= retries) {
        throw new Error(`model endpoint ${url} answered ${response.status}: ${response.body.slice(0, 500)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 200 * 2 ** attempt));
    }
  }
}
