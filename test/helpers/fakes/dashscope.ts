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
  /** Statuses GET /api/v1/fine-tunes/{id} walks through; the last one sticks. */
  fineTuneScript?: string[];
}

export class DashScopeFake {
  readonly deployments = new Map<string, { body: any; reads: number; deleted: boolean }>();
  /** Uploaded fine-tune files by id: the JSONL text as received. */
  readonly files = new Map<string, string>();
  readonly fineTunes = new Map<string, { body: any; reads: number }>();
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

  private route(
    req: { method: string; path: string; headers: any; body: any; raw?: string },
    violations: string[],
  ): Answer {
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
    const fineTune = this.fineTuneRoute(req, violations);
    if (fineTune) return fineTune;
    violations.push(`unexpected ${req.method} ${req.path}`);
    return { status: 404, body: { request_id: "fake", code: "NotFound", message: "no such API" } };
  }

  /**
   * Files and fine-tunes (components/bailian/fine-tune.ts has the pages): a multipart upload with
   * `files`, `purpose` "fine-tune" and `descriptions`, whose every line must be a ChatML row; POST
   * /api/v1/fine-tunes needs model, training_file_ids of uploaded files and a known training_type.
   */
  private fineTuneRoute(
    req: { method: string; path: string; headers: any; body: any; raw?: string },
    violations: string[],
  ): Answer | undefined {
    if (req.method === "POST" && req.path === "/api/v1/files") {
      const type = String(req.headers["content-type"] ?? "");
      const boundary = /boundary=(.+)$/.exec(type)?.[1];
      if (!boundary) {
        violations.push("POST /api/v1/files is not multipart/form-data");
        return { status: 400, body: { request_id: "fake", code: "InvalidParameter", message: "multipart expected" } };
      }
      const parts = (req.raw ?? "").split(`--${boundary}`).filter((p) => p.includes("Content-Disposition"));
      const field = (name: string) => parts.find((p) => p.includes(`name="${name}"`));
      const value = (part: string | undefined) =>
        part?.split("\r\n\r\n").slice(1).join("\r\n\r\n").replace(/\r\n$/, "");
      if (value(field("purpose")) !== "fine-tune") violations.push("upload without purpose fine-tune");
      if (!field("descriptions")) violations.push("upload without descriptions");
      const file = field("files");
      const name = /filename="([^"]+)"/.exec(file ?? "")?.[1];
      if (!file || !name) violations.push("upload without a `files` file part");
      const text = value(file) ?? "";
      text
        .split("\n")
        .filter((line) => line.trim())
        .forEach((line, i) => {
          const row = JSON.parse(line);
          if (!Array.isArray(row.messages) || Object.keys(row).length !== 1)
            violations.push(`line ${i + 1}: expected {"messages": [...]} only`);
        });
      const id = `file-${this.files.size + 1}`;
      this.files.set(id, text);
      return {
        status: 200,
        body: { request_id: "fake", data: { uploaded_files: [{ file_id: id, name }], failed_uploads: [] } },
      };
    }
    if (req.method === "POST" && req.path === "/api/v1/fine-tunes") {
      const body = req.body ?? {};
      if (typeof body.model !== "string") violations.push("fine-tune without model");
      const ids = [...(body.training_file_ids ?? []), ...(body.validation_file_ids ?? [])];
      if (!Array.isArray(body.training_file_ids) || body.training_file_ids.length === 0)
        violations.push("fine-tune without training_file_ids");
      for (const id of ids) if (!this.files.has(id)) violations.push(`fine-tune names file ${id}, never uploaded`);
      if (!["sft", "efficient_sft", "dpo_full", "dpo_lora", "cpt"].includes(body.training_type))
        violations.push(`unknown training_type ${body.training_type}`);
      const id = `ft-202612071900-${String(this.fineTunes.size + 1).padStart(4, "0")}`;
      this.fineTunes.set(id, { body, reads: 0 });
      return {
        status: 200,
        body: { request_id: "fake", output: { job_id: id, job_name: id, status: "PENDING", model: body.model } },
      };
    }
    const match = /^\/api\/v1\/fine-tunes\/([^/]+)$/.exec(req.path);
    if (req.method === "GET" && match) {
      const id = decodeURIComponent(match[1] as string);
      const job = this.fineTunes.get(id);
      if (!job) return { status: 404, body: { request_id: "fake", code: "NotFound", message: `job ${id} not found` } };
      const script = this.options.fineTuneScript ?? ["PENDING", "RUNNING", "SUCCEEDED"];
      const status = script[Math.min(job.reads++, script.length - 1)] as string;
      const output = {
        job_id: id,
        job_name: id,
        status,
        model: job.body.model,
        base_model: job.body.model,
        training_file_ids: job.body.training_file_ids,
        hyper_parameters: job.body.hyper_parameters,
        ...(status === "SUCCEEDED"
          ? { finetuned_output: `${job.body.model}-${job.body.finetuned_output_suffix}-${id}` }
          : {}),
        ...(status === "FAILED" && this.options.failureMessage ? { message: this.options.failureMessage } : {}),
      };
      return { status: 200, body: { request_id: "fake", output } };
    }
    return undefined;
  }
}
