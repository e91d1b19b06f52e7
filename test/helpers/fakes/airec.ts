import { akFakeEnv, signatureProblem } from "./acs3";
import { type Answer, HttpFake, type SeenRequest } from "./http-fake";

export { FAKE_AK } from "./acs3";

/**
 * AIRec 2020-11-26 management API as components/recommendations/airec-api.ts documents it (sources
 * there): DescribeInstance, CreateInstance, ListScenes, CreateScene, ListDataSource. Every request
 * must carry x-acs-version 2020-11-26 and a VALID ACS3-HMAC-SHA256 signature (./acs3.ts recomputes
 * it, as the orchestrator's AIRec fake does); a mismatch is answered 403 SignatureDoesNotMatch. Method and path
 * are checked per action, CreateInstance's required fields too. Errors use AIRec's documented body
 * {RequestId, Code, Message}; an unknown instance is Code InstanceNotFound [HTTP 404: I].
 */

export interface FakeInstance {
  readonly instanceId: string;
  readonly regionId: string;
  status: string;
  readonly scenes: Map<string, { sceneId: string; status: string; body: any }>;
  readonly dataSources: { tableName: string; meta: { type: string; projectName?: string; tableName?: string } }[];
  readonly created?: any;
}

export type FakeInstanceSeed = Omit<FakeInstance, "scenes"> & { scenes?: string[] };

export interface AirecFakeOptions {
  /** Instances that exist before the test (bought elsewhere). */
  readonly instances?: readonly FakeInstanceSeed[];
  /** The region a bought instance lands in. */
  readonly region?: string;
}

const EDITIONS = ["Algorithm Configuration Edition", "Industry Operation Edition"];

export class AirecFake {
  readonly instances = new Map<string, FakeInstance>();
  readonly http: HttpFake;
  private next = 1;

  constructor(private readonly options: AirecFakeOptions = {}) {
    for (const instance of options.instances ?? []) this.add(instance);
    this.http = new HttpFake((req, violations) => this.serve(req, violations));
  }

  add(instance: FakeInstanceSeed): FakeInstance {
    const scenes = new Map((instance.scenes ?? []).map((id) => [id, { sceneId: id, status: "RUNNING", body: {} }]));
    const added = { ...instance, scenes };
    this.instances.set(instance.instanceId, added);
    return added;
  }

  start(): Promise<string> {
    return this.http.start();
  }
  stop(): Promise<void> {
    return this.http.stop();
  }

  private serve(req: Omit<SeenRequest, "violations">, violations: string[]): Answer {
    const signature = signatureProblem(req);
    if (signature) {
      violations.push(signature);
      return error(403, "SignatureDoesNotMatch", signature);
    }
    if (req.headers["x-acs-version"] !== "2020-11-26") {
      violations.push(`x-acs-version ${req.headers["x-acs-version"]}`);
      return error(400, "InvalidVersion", "expected x-acs-version 2020-11-26");
    }
    return this.route(String(req.headers["x-acs-action"] ?? ""), req, violations);
  }

  private route(action: string, req: Omit<SeenRequest, "violations">, violations: string[]): Answer {
    const expect = (method: string, pattern: RegExp) => {
      if (req.method !== method || !pattern.test(req.path))
        violations.push(`${action} must be ${method} ${pattern}, got ${req.method} ${req.path}`);
    };
    const id = decodeURIComponent(req.path.split("/")[4] ?? "");
    const instance = this.instances.get(id);
    const notFound = error(
      404,
      "InstanceNotFound",
      "The specified instance does not exist. Check the instanceId please.",
    );
    switch (action) {
      case "DescribeInstance":
        expect("GET", /^\/v2\/openapi\/instances\/[^/]+$/);
        if (!instance) return notFound;
        return ok({
          instanceId: instance.instanceId,
          regionId: instance.regionId,
          status: instance.status,
          chargeType: "PrePaid",
          commodityCode: "airecpre",
          lockMode: "Unlock",
        });
      case "CreateInstance":
        return this.createInstance(req, violations, expect);
      case "ListScenes": {
        expect("GET", /^\/v2\/openapi\/instances\/[^/]+\/scenes$/);
        if (!instance) return notFound;
        const page = Number(req.query.page ?? 1);
        const size = Number(req.query.size ?? 10);
        const all = [...instance.scenes.values()].map(({ sceneId, status }) => ({ sceneId, status }));
        return ok(all.slice((page - 1) * size, page * size));
      }
      case "CreateScene": {
        expect("POST", /^\/v2\/openapi\/instances\/[^/]+\/scenes$/);
        if (!instance) return notFound;
        if (req.query.dryRun !== "false") violations.push(`CreateScene dryRun ${req.query.dryRun}; expected false`);
        const sceneId = req.body?.sceneId;
        if (typeof sceneId !== "string" || !sceneId) {
          violations.push("CreateScene without sceneId");
          return error(400, "ValidationError", "An error occurred while validating");
        }
        // The code AIRec gives a duplicate scene is not documented; the resource never sends one.
        if (instance.scenes.has(sceneId)) {
          violations.push(`CreateScene for existing scene ${sceneId}`);
          return error(400, "ValidationError", `scene ${sceneId} exists`);
        }
        instance.scenes.set(sceneId, { sceneId, status: "DRAFT", body: req.body });
        return ok({ sceneId, status: "DRAFT" });
      }
      case "ListDataSource":
        expect("GET", /^\/v2\/openapi\/instances\/[^/]+\/dataSources$/);
        if (!instance) return notFound;
        return ok(instance.dataSources);
      default:
        violations.push(`unexpected action ${JSON.stringify(action)} (${req.method} ${req.path})`);
        return error(400, "InvalidAction", action);
    }
  }

  private createInstance(
    req: Omit<SeenRequest, "violations">,
    violations: string[],
    expect: (method: string, pattern: RegExp) => void,
  ): Answer {
    expect("POST", /^\/v2\/openapi\/instances$/);
    const body = req.body ?? {};
    const problems: string[] = [];
    if (!EDITIONS.includes(body.type)) problems.push(`type ${JSON.stringify(body.type)}`);
    if (body.chargeType !== "PrePaid") problems.push(`chargeType ${JSON.stringify(body.chargeType)}`);
    for (const key of ["userCount", "itemCount", "qps"])
      if (!Number.isInteger(body.quota?.[key])) problems.push(`quota.${key} ${JSON.stringify(body.quota?.[key])}`);
    // PrePaid requires paymentInfo (CreateInstance page).
    const payment = body.paymentInfo;
    if (!payment || !Number.isInteger(payment.duration) || !["Month", "Year"].includes(payment.pricingCycle))
      problems.push(`paymentInfo ${JSON.stringify(payment)}`);
    if (problems.length > 0) {
      violations.push(`CreateInstance: ${problems.join(", ")}`);
      return error(400, "ValidationError", `An error occurred while validating: ${problems.join(", ")}`);
    }
    const instanceId = `airec-cn-fake${this.next++}`;
    this.add({
      instanceId,
      regionId: this.options.region ?? "cn-hangzhou",
      status: "Initializing",
      dataSources: [],
      created: body,
    });
    return ok({ instanceId });
  }
}

function ok(result: unknown): Answer {
  return { status: 200, body: { requestId: "fake-req", code: "Success", message: "", result } };
}

function error(status: number, code: string, message: string): Answer {
  return { status, body: { RequestId: "fake-req", Code: code, Message: message } };
}

/** Environment a provider needs to reach the fake with the fake's access key. */
export const airecFakeEnv = (endpoint: string): Record<string, string> =>
  akFakeEnv("BACKBONE_AIREC_ENDPOINT", endpoint);
