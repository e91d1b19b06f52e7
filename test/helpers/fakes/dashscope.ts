import { type Answer, HttpFake } from "./http-fake";

/**
 * DashScope's deployment API (see components/bailian/deployment.ts for the pages): Bearer key,
 * POST/GET/DELETE under /api/v1/deployments, answers {request_id, output:{…}} or
 * {request_id, code, message}. A key other than `validKey` gets the 401 a wrong key gets.
 */

/** The key the fake accepts unless told otherwise. */
export const DASHSCOPE_FAKE_KEY = "sk-fake";

/** Environment a provider needs to call the fake (its URL is the resource's baseUrl input). */
export const dashscopeFakeEnv = (): Record<string, string> => ({ DASHSCOPE_API_KEY: DASHSCOPE_FAKE_KEY });

export interface DashScopeFakeOptions {
  validKey?: string;
  /** Statuses GET walks through per deployment; the last one sticks. */
  script?: string[];
  failureMessage?: string;
}

export class DashScopeFake {
  readonly deployments = new Map<string, { body: any; reads: number; deleted: boolean }>();
  readonly http: HttpFake;
  private next = 1;

  constructor(public options: DashScopeFakeOptions = {}) {
    this.http = new HttpFake((req, violations) => this.route(req, violations));
  }

  start(): Promise<string> {
    return this.http.start();
  }
  stop(): Promise<void> {
    return this.http.stop();
  }

  private route(req: { method: string; path: string; headers: any; body: any }, violations: string[]): Answer {
    const auth = String(req.headers.authorization ?? "");
    if (!auth.startsWith("Bearer ")) violations.push("no Bearer authorization");
    if (/^acs |ACS3-HMAC/.test(auth)) violations.push("DashScope takes an API key, not an AK signature");
    if (auth !== `Bearer ${this.options.validKey ?? DASHSCOPE_FAKE_KEY}`) {
      return { status: 401, body: { request_id: "fake", code: "InvalidApiKey", message: "Invalid API-key provided." } };
    }
    const output = (id: string, status: string, body: any) => ({
      deployed_model: id,
      status,
      model_name: body.model_name,
      base_model: body.model_name,
      base_capacity: 1,
      capacity: body.capacity,
      ready_capacity: status === "RUNNING" ? body.capacity : 0,
      workspace_id: "llm-fake",
      charge_type: "post_paid",
      ...(status === "FAILED" && this.options.failureMessage ? { message: this.options.failureMessage } : {}),
    });
    const id = decodeURIComponent(req.path.split("/")[4] ?? "");
    const found = this.deployments.get(id);
    const notFound = {
      status: 404,
      body: { request_id: "fake", code: "NotFound", message: `Model: ${id} not found!` },
    };
    if (req.method === "POST" && req.path === "/api/v1/deployments") {
      if (typeof req.body?.model_name !== "string") violations.push("POST /api/v1/deployments without model_name");
      if (!Number.isInteger(req.body?.capacity))
        violations.push("POST /api/v1/deployments without an integer capacity");
      const deployed = `${req.body.model_name}-${req.body.suffix ?? "dep"}${this.next++}`;
      this.deployments.set(deployed, { body: req.body, reads: 0, deleted: false });
      return { status: 200, body: { request_id: "fake", output: output(deployed, "PENDING", req.body) } };
    }
    if (req.method === "GET" && /^\/api\/v1\/deployments\/[^/]+$/.test(req.path)) {
      if (!found || found.deleted) return notFound;
      const script = this.options.script ?? ["PENDING", "RUNNING"];
      const status = script[Math.min(found.reads++, script.length - 1)] as string;
      return { status: 200, body: { request_id: "fake", output: output(id, status, found.body) } };
    }
    if (req.method === "DELETE" && /^\/api\/v1\/deployments\/[^/]+$/.test(req.path)) {
      if (!found || found.deleted) return notFound;
      found.deleted = true;
      return { status: 200, body: { request_id: "fake", output: output(id, "DELETING", found.body) } };
    }
    violations.push(`unexpected ${req.method} ${req.path}`);
    return { status: 404, body: { request_id: "fake", code: "NotFound", message: "no such API" } };
  }
}
