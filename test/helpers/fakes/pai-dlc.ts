import { akFakeEnv, signatureProblem } from "./acs3";
import { type Answer, HttpFake } from "./http-fake";

/**
 * PAI DLC 2020-12-03 as the official client calls it (see components/training/pai-dlc-job.ts for
 * the sources). It checks what the real service would: a valid ACS3-HMAC-SHA256 signature by the
 * fake's access key (recomputed in ./acs3.ts; a mismatch is answered 403 SignatureDoesNotMatch),
 * x-acs-action/x-acs-version, method and path per action, and CreateJob's required fields. Answers
 * use the documented bodies.
 */

export interface FakeJob {
  readonly id: string;
  readonly body: any;
  /** Statuses GetJob walks through, one per call; the last one sticks. */
  readonly script: string[];
  reads: number;
  reason?: { ReasonCode: string; ReasonMessage: string };
  stopped: boolean;
  deleted: boolean;
}

export interface DlcFakeOptions {
  /** Statuses each new job walks through. */
  script?: string[];
  reason?: { ReasonCode: string; ReasonMessage: string };
  /** Answer CreateJob with this error instead (quota, permission). */
  createError?: { status: number; Code: string; Message: string };
}

const SIGNED_HEADERS = ["authorization", "x-acs-date", "x-acs-signature-nonce", "x-acs-content-sha256"];
const REQUIRED_CREATE_FIELDS = ["DisplayName", "JobType", "JobSpecs", "UserCommand"];

export class PaiDlcFake {
  readonly jobs = new Map<string, FakeJob>();
  options: DlcFakeOptions;
  readonly http: HttpFake;
  private next = 1;

  constructor(options: DlcFakeOptions = {}) {
    this.options = options;
    this.http = new HttpFake((req, violations) => {
      const action = String(req.headers["x-acs-action"] ?? "");
      if (req.headers["x-acs-version"] !== "2020-12-03")
        violations.push(`x-acs-version ${req.headers["x-acs-version"]}`);
      for (const header of SIGNED_HEADERS) if (!req.headers[header]) violations.push(`missing ${header}`);
      const signature = signatureProblem(req);
      if (signature) {
        violations.push(signature);
        return { status: 403, body: { RequestId: "fake-req", Code: "SignatureDoesNotMatch", Message: signature } };
      }
      return this.route(action, req, violations);
    });
  }

  start(): Promise<string> {
    return this.http.start();
  }
  stop(): Promise<void> {
    return this.http.stop();
  }

  private route(action: string, req: { method: string; path: string; body: any }, violations: string[]): Answer {
    const expect = (method: string, pattern: RegExp) => {
      if (req.method !== method || !pattern.test(req.path))
        violations.push(`${action} must be ${method} ${pattern}, got ${req.method} ${req.path}`);
    };
    const id = decodeURIComponent(req.path.split("/")[4] ?? "");
    const job = this.jobs.get(id);
    const notFound = {
      status: 404,
      body: { RequestId: "fake-req", Code: "JobNotFound", Message: `job ${id} not found` },
    };
    switch (action) {
      case "CreateJob": {
        expect("POST", /^\/api\/v1\/jobs$/);
        for (const field of REQUIRED_CREATE_FIELDS)
          if (req.body?.[field] === undefined) violations.push(`CreateJob without ${field}`);
        const spec = req.body?.JobSpecs?.[0];
        if (!spec?.Type || !spec?.Image || !spec?.EcsSpec || typeof spec?.PodCount !== "number")
          violations.push("JobSpecs[0] needs Type, Image, EcsSpec and a numeric PodCount");
        if (this.options.createError) {
          const { status, ...error } = this.options.createError;
          return { status, body: { RequestId: "fake-req", ...error } };
        }
        const jobId = `dlc-fake${this.next++}`;
        this.jobs.set(jobId, {
          id: jobId,
          body: req.body,
          script: [...(this.options.script ?? ["Queuing", "Running", "Succeeded"])],
          reads: 0,
          ...(this.options.reason ? { reason: this.options.reason } : {}),
          stopped: false,
          deleted: false,
        });
        return { status: 200, body: { JobId: jobId, RequestId: "fake-req" } };
      }
      case "GetJob": {
        expect("GET", /^\/api\/v1\/jobs\/[^/]+$/);
        if (!job || job.deleted) return notFound;
        const status = job.stopped ? "Stopped" : (job.script[Math.min(job.reads, job.script.length - 1)] as string);
        job.reads++;
        const failed = status === "Failed" ? (job.reason ?? {}) : {};
        return {
          status: 200,
          body: {
            RequestId: "fake-req",
            JobId: job.id,
            DisplayName: job.body.DisplayName,
            JobType: job.body.JobType,
            Status: status,
            ...failed,
          },
        };
      }
      case "StopJob":
        expect("POST", /^\/api\/v1\/jobs\/[^/]+\/stop$/);
        if (!job || job.deleted) return notFound;
        job.stopped = true;
        return { status: 200, body: { RequestId: "fake-req" } };
      case "DeleteJob": {
        expect("DELETE", /^\/api\/v1\/jobs\/[^/]+$/);
        if (!job || job.deleted) return notFound;
        const status = job.stopped ? "Stopped" : job.script[Math.min(job.reads, job.script.length) - 1];
        if (!job.stopped && !["Succeeded", "Failed", "Stopped"].includes(String(status)))
          return {
            status: 400,
            body: {
              RequestId: "fake-req",
              Code: "InvalidStatus",
              Message: "only completed or stopped jobs can be deleted",
            },
          };
        job.deleted = true;
        return { status: 200, body: { RequestId: "fake-req" } };
      }
      default:
        violations.push(`unknown action ${JSON.stringify(action)}`);
        return { status: 400, body: { RequestId: "fake-req", Code: "InvalidAction", Message: action } };
    }
  }
}

/** Environment a provider needs to reach the fake with the fake's access key. */
export const fakeAlibabaEnv = (endpoint: string): Record<string, string> =>
  akFakeEnv("BACKBONE_PAI_DLC_ENDPOINT", endpoint);
