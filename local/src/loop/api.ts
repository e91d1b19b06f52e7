/**
 * The orchestrator's public API as a user's client sees it: an API key in the Authorization header,
 * JSON in and out. Nothing here reaches behind the API.
 */

export interface SearchHit {
  readonly docId: string;
  readonly title: string;
  readonly engines: readonly string[];
}

export interface SearchAnswer {
  readonly queryId: string;
  readonly results: readonly SearchHit[];
  readonly degraded: boolean;
  readonly warnings: readonly { dependency: string; message: string }[];
}

export interface ChatAnswer {
  readonly queryId: string;
  readonly citations: readonly SearchHit[];
  readonly answer: string;
  readonly degraded: boolean;
  readonly warnings: readonly { dependency: string; message: string }[];
}

export interface ApiEvent {
  readonly type: "click" | "citation_open" | "feedback";
  readonly userId: string;
  readonly queryId: string;
  readonly docId: string;
  readonly position?: number;
  readonly channel?: "search" | "chat";
  readonly value?: "up" | "down";
}

export class ApiError extends Error {
  override name = "ApiError";
  readonly status: number;
  readonly retryAfterMs: number | undefined;
  constructor(status: number, message: string, retryAfterMs?: number) {
    super(message);
    this.status = status;
    this.retryAfterMs = retryAfterMs;
  }
}

export class Api {
  private readonly base: string;
  private readonly key: string;
  private readonly timeoutMs: number;

  constructor(base: string, key: string, timeoutMs = 30_000) {
    this.base = base.replace(/\/+$/, "");
    this.key = key;
    this.timeoutMs = timeoutMs;
  }

  private async post<T>(path: string, body: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${this.base}${path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${this.key}`, "content-type": "application/json" },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw new ApiError(0, `POST ${path}: ${(error as Error).message}`);
    }
    const text = await response.text();
    if (!response.ok) {
      const retry = Number(response.headers.get("retry-after"));
      let detail = text.slice(0, 300);
      try {
        const problem = JSON.parse(text) as { title?: string; detail?: string };
        detail = [problem.title, problem.detail].filter(Boolean).join(": ");
      } catch {}
      throw new ApiError(
        response.status,
        `POST ${path}: ${response.status} ${detail}`,
        Number.isFinite(retry) && retry > 0 ? retry * 1000 : undefined,
      );
    }
    return JSON.parse(text) as T;
  }

  search(query: string, userId?: string, topK?: number): Promise<SearchAnswer> {
    return this.post("/v1/search", { query, ...(userId ? { userId } : {}), ...(topK ? { topK } : {}) });
  }

  chat(question: string, userId?: string): Promise<ChatAnswer> {
    return this.post("/v1/chat", {
      messages: [{ role: "user", content: question }],
      stream: false,
      ...(userId ? { userId } : {}),
    });
  }

  events(events: readonly ApiEvent[]): Promise<{ accepted: number; refused: readonly unknown[] }> {
    return this.post("/v1/events", { events });
  }

  /** The models the service queries with now, from its /metrics (open, like the probes). */
  async modelsInUse(): Promise<{ embedding?: string; rerank?: string }> {
    const response = await fetch(`${this.base}/metrics`, { signal: AbortSignal.timeout(5000) });
    if (!response.ok) throw new ApiError(response.status, `GET /metrics: ${response.status}`);
    return modelInfo(await response.text());
  }

  async healthy(): Promise<boolean> {
    try {
      const response = await fetch(`${this.base}/readyz`, { signal: AbortSignal.timeout(5000) });
      return response.ok;
    } catch {
      return false;
    }
  }
}

/** `orchestrator_model_info{role="…",model="…"} 1` lines of a Prometheus exposition, by role. */
export function modelInfo(exposition: string): { embedding?: string; rerank?: string } {
  const out: { embedding?: string; rerank?: string } = {};
  for (const line of exposition.split("\n")) {
    const m = /^orchestrator_model_info\{(.*)\}\s+1$/.exec(line.trim());
    if (!m) continue;
    const labels = Object.fromEntries(
      [...(m[1] as string).matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]),
    );
    if (labels.role === "embedding" || labels.role === "rerank")
      out[labels.role as "embedding" | "rerank"] = labels.model;
  }
  return out;
}
