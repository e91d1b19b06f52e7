/**
 * TorchServe's management API (https://pytorch.org/serve/management_api.html) for the loop: which
 * versions a model has and which is the default, registering an archive of the model store as a new
 * version, making it the default; and a contract call on the inference API to prove a version serves.
 */

export interface ModelVersion {
  readonly modelName: string;
  readonly modelVersion: string;
  readonly modelUrl: string;
  readonly workers: readonly { readonly status: string }[];
}

async function call<T>(method: string, url: string, step: string, body?: unknown, timeoutMs = 300_000): Promise<T> {
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      ...(body === undefined ? {} : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    throw new Error(`torchserve ${step}: ${method} ${url} failed: ${(error as Error).message}`);
  }
  const text = await response.text();
  if (!response.ok) {
    const hint = /model api|disabled/i.test(text)
      ? " (TorchServe must run with enable_model_api=true to register versions; its management API is on loopback)"
      : "";
    throw new Error(`torchserve ${step}: ${method} ${url} answered ${response.status}: ${text.slice(0, 400)}${hint}`);
  }
  return (text ? JSON.parse(text) : {}) as T;
}

export class TorchServeClient {
  private readonly management: string;
  private readonly inference: string;

  constructor(management: string, inference: string) {
    this.management = management.replace(/\/+$/, "");
    this.inference = inference.replace(/\/+$/, "");
  }

  /** Every registered version of `name`. */
  versions(name: string): Promise<ModelVersion[]> {
    return call("GET", `${this.management}/models/${encodeURIComponent(name)}/all`, `versions of ${name}`);
  }

  /** The default version (what /predictions/<name> serves). */
  async defaultVersion(name: string): Promise<ModelVersion> {
    const found = await call<ModelVersion[]>(
      "GET",
      `${this.management}/models/${encodeURIComponent(name)}`,
      `default of ${name}`,
    );
    const first = found[0];
    if (!first) throw new Error(`torchserve has no default version of ${name}`);
    return first;
  }

  /** Registers `archive` (a file name in the model store) as a version of `name`, with one worker, and waits for it. */
  register(name: string, archive: string): Promise<{ status: string }> {
    const query = new URLSearchParams({ url: archive, model_name: name, initial_workers: "1", synchronous: "true" });
    return call("POST", `${this.management}/models?${query}`, `registration of ${archive}`);
  }

  setDefault(name: string, version: string): Promise<{ status: string }> {
    return call(
      "PUT",
      `${this.management}/models/${encodeURIComponent(name)}/${encodeURIComponent(version)}/set-default`,
      `set-default of ${name} ${version}`,
    );
  }

  /** One embeddings call on the contract; returns the vector size it served. */
  async embedDims(name: string, version: string): Promise<number> {
    const url = `${this.inference}/predictions/${encodeURIComponent(name)}/${encodeURIComponent(version)}`;
    const answer = await call<{ data?: { embedding?: number[] }[] }>("POST", url, `embeddings of ${name} ${version}`, {
      input: ["loop check: does the new version serve"],
    });
    const vector = answer.data?.[0]?.embedding;
    if (!Array.isArray(vector)) throw new Error(`torchserve ${name} ${version} answered without data[0].embedding`);
    return vector.length;
  }

  /** One rerank call on the contract; returns the scores in document order. */
  async rerankScores(name: string, version: string): Promise<number[]> {
    const url = `${this.inference}/predictions/${encodeURIComponent(name)}/${encodeURIComponent(version)}`;
    const documents = ["json encodes and decodes JSON", "the weather is warm today"];
    const answer = await call<{ results?: { index: number; relevance_score: number }[] }>(
      "POST",
      url,
      `rerank of ${name} ${version}`,
      { query: "json module", documents },
    );
    const results = answer.results ?? [];
    if (results.length !== documents.length) {
      throw new Error(
        `torchserve ${name} ${version} answered ${results.length} rerank results for ${documents.length} documents`,
      );
    }
    return documents.map((_, i) => results.find((r) => r.index === i)?.relevance_score ?? Number.NaN);
  }
}
