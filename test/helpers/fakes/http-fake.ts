import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** One request as the fake saw it, with what broke the documented contract (if anything). */
export interface SeenRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Record<string, string>;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: any;
  /** The body as received, for checks over its exact bytes (payload hash, signature). */
  readonly raw: string;
  readonly violations: readonly string[];
}

export interface Answer {
  readonly status: number;
  readonly body: unknown;
}

export type Handler = (req: SeenRequest) => Answer;

/**
 * A local HTTP server standing in for an Alibaba Cloud API. Each test wires a handler; the fake
 * records every request and the contract violations the handler found, which tests assert empty.
 */
export class HttpFake {
  readonly requests: SeenRequest[] = [];
  private server: Server | undefined;

  constructor(private readonly handle: (req: Omit<SeenRequest, "violations">, violations: string[]) => Answer) {}

  async start(): Promise<string> {
    this.server = createServer((req, res) => this.serve(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  get violations(): string[] {
    return this.requests.flatMap((r) => r.violations.map((v) => `${r.method} ${r.path}: ${v}`));
  }

  actions(): string[] {
    return this.requests.map((r) => String(r.headers["x-acs-action"] ?? `${r.method} ${r.path}`));
  }

  private serve(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://fake");
      const text = Buffer.concat(chunks).toString("utf8");
      const violations: string[] = [];
      let body: any;
      // A multipart upload (DashScope's /api/v1/files) is checked by its handler over `raw`.
      const multipart = String(req.headers["content-type"] ?? "").startsWith("multipart/form-data");
      try {
        body = text && !multipart ? JSON.parse(text) : undefined;
      } catch {
        violations.push("body is not JSON");
      }
      const seen = {
        method: req.method ?? "",
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers: req.headers,
        body,
        raw: text,
      };
      let answer: Answer;
      try {
        answer = this.handle(seen, violations);
      } catch (err) {
        violations.push(`fake failed: ${(err as Error).message}`);
        answer = { status: 500, body: { Code: "FakeError", Message: (err as Error).message } };
      }
      this.requests.push({ ...seen, violations });
      res.writeHead(answer.status, { "content-type": "application/json;charset=utf-8" });
      res.end(JSON.stringify(answer.body));
    });
  }
}
