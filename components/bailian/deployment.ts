import * as pulumi from "@pulumi/pulumi";
import { callRoaJson, parseEndpoint } from "../alibaba-api/openapi";

/**
 * A dedicated Model Studio (Bailian) deployment of a fine-tuned model: create, poll until RUNNING,
 * delete. FAILED fails the resource with the service's reason. Every input change is a new
 * deployment (created before the old one is deleted, so the endpoint never goes dark).
 *
 * DashScope deployment API (plain HTTPS, `Authorization: Bearer <API key>`, no AK signing), per
 * https://help.aliyun.com/zh/model-studio/model-deployment-api and
 * https://www.alibabacloud.com/help/en/model-studio/get-deployment-api:
 *   POST   {base}/api/v1/deployments                  {model_name, capacity, suffix?} → {request_id, output:{deployed_model, status, …}}
 *   GET    {base}/api/v1/deployments/{deployed_model} → {request_id, output:{status: PENDING|UPDATING|RUNNING|STOPPED|DELETING|FAILED, …}}
 *   DELETE {base}/api/v1/deployments/{deployed_model} → {request_id, output:{status: "DELETING"}}
 *   errors {request_id, code, message}, e.g. code "NotFound"; a wrong or foreign-region key gives 401.
 * The call goes through @alicloud/openapi-client's callApi with authType "Anonymous" (no signature)
 * and the Bearer header. The key comes from DASHSCOPE_API_KEY in the environment, never an input.
 * BACKBONE_DASHSCOPE_BASE_URL overrides the base URL (local fakes).
 */

export interface BailianDeploymentSpec {
  /** https://dashscope.aliyuncs.com (Beijing) or the region's equivalent. */
  readonly baseUrl: string;
  /** The fine-tuned model id to deploy (a Model Studio fine-tune's finetuned_output). */
  readonly modelName: string;
  readonly capacity: number;
  /** Readable part of the deployed model's name. */
  readonly suffix?: string;
}

export interface DeploymentWait {
  readonly timeoutMinutes: number;
  readonly pollSeconds: number;
}

export interface BailianDeploymentState extends BailianDeploymentSpec {
  readonly wait: DeploymentWait;
  readonly deployedModel: string;
  readonly status: string;
}

export interface DeploymentContext {
  readonly env?: Record<string, string | undefined>;
  readonly progress?: (line: string) => void;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => number;
}

export function deploymentProblems(spec: Partial<BailianDeploymentSpec>): string[] {
  const problems: string[] = [];
  if (!/^https?:\/\/[A-Za-z0-9.-]+(:\d+)?\/?$/.test(String(spec.baseUrl)))
    problems.push(`baseUrl: expected https://host, got ${JSON.stringify(spec.baseUrl)}`);
  if (typeof spec.modelName !== "string" || spec.modelName === "")
    problems.push(`modelName: expected a model id, got ${JSON.stringify(spec.modelName)}`);
  if (!Number.isInteger(spec.capacity) || (spec.capacity as number) < 1)
    problems.push(`capacity: expected a whole number >= 1, got ${JSON.stringify(spec.capacity)}`);
  if (spec.suffix !== undefined && !/^[a-z0-9-]{1,32}$/.test(spec.suffix))
    problems.push(`suffix: expected 1-32 lowercase letters, digits or hyphens, got ${JSON.stringify(spec.suffix)}`);
  return problems;
}

function dashscope(baseUrl: string, ctx: DeploymentContext) {
  const env = ctx.env ?? process.env;
  const key = env.DASHSCOPE_API_KEY;
  if (!key) {
    throw new Error(
      "no DashScope API key: set DASHSCOPE_API_KEY in the environment of `pulumi up` (the key of the Model Studio workspace and region that deploys the model)",
    );
  }
  const endpoint = parseEndpoint(env.BACKBONE_DASHSCOPE_BASE_URL || baseUrl);
  return (action: string, method: "GET" | "POST" | "DELETE", pathname: string, body?: Record<string, unknown>) =>
    callRoaJson({
      endpoint,
      action,
      // DashScope ignores the OpenAPI version header; the path carries the API version.
      version: "v1",
      method,
      pathname,
      auth: { type: "Anonymous" },
      headers: { Authorization: `Bearer ${key}` },
      ...(body ? { body } : {}),
    });
}

const deploymentPath = (id: string) => `/api/v1/deployments/${encodeURIComponent(id)}`;

export async function createDeployment(
  spec: BailianDeploymentSpec,
  wait: DeploymentWait,
  ctx: DeploymentContext = {},
): Promise<{ deployedModel: string; status: string }> {
  const call = dashscope(spec.baseUrl, ctx);
  const progress = ctx.progress ?? ((line: string) => process.stderr.write(`${line}\n`));
  const sleep = ctx.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const now = ctx.now ?? Date.now;
  const created = await call("CreateDeployment", "POST", "/api/v1/deployments", {
    model_name: spec.modelName,
    capacity: spec.capacity,
    ...(spec.suffix ? { suffix: spec.suffix } : {}),
  });
  const deployedModel = created.output?.deployed_model;
  if (typeof deployedModel !== "string" || deployedModel === "") {
    throw new Error(
      `CreateDeployment answered without output.deployed_model: ${JSON.stringify(created).slice(0, 300)}`,
    );
  }
  progress(`Bailian deployment ${deployedModel} (${spec.modelName}): created`);
  const deadline = now() + wait.timeoutMinutes * 60_000;
  let last = "";
  for (;;) {
    const output = (await call("GetDeployment", "GET", deploymentPath(deployedModel))).output ?? {};
    const status = String(output.status ?? "UNKNOWN");
    if (status !== last) {
      progress(
        `Bailian deployment ${deployedModel}: ${status} (${output.ready_capacity ?? 0}/${output.capacity ?? spec.capacity} ready)`,
      );
      last = status;
    }
    if (status === "RUNNING") return { deployedModel, status };
    if (status === "FAILED" || status === "STOPPED") {
      // The documented object has no reason field; these are the names DashScope uses elsewhere [I].
      const reason = output.message ?? output.error_message ?? output.reason ?? "Model Studio gave no reason";
      throw deploymentFailed(
        `Bailian deployment ${deployedModel} (${spec.modelName}) is ${status}: ${reason}`,
        deployedModel,
        status,
      );
    }
    if (now() >= deadline) {
      throw deploymentFailed(
        `Bailian deployment ${deployedModel} is still ${status} after ${wait.timeoutMinutes} min`,
        deployedModel,
        status,
      );
    }
    await sleep(wait.pollSeconds * 1000);
  }
}

function deploymentFailed(message: string, id: string, status: string): Error {
  return Object.assign(new Error(message), { id, properties: { deployedModel: id, status }, reasons: [message] });
}

export async function deleteDeployment(baseUrl: string, id: string, ctx: DeploymentContext = {}): Promise<void> {
  try {
    await dashscope(baseUrl, ctx)("DeleteDeployment", "DELETE", deploymentPath(id));
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return;
    throw err;
  }
}

type Inputs = BailianDeploymentSpec & { wait: DeploymentWait };
const IDENTITY = ["baseUrl", "modelName", "capacity", "suffix"] as const;

const bailianDeploymentProvider: pulumi.dynamic.ResourceProvider<Inputs, BailianDeploymentState> = {
  async check(_olds, news) {
    return {
      inputs: news,
      failures: deploymentProblems(news).map((reason) => ({ property: reason.split(":")[0] ?? "", reason })),
    };
  },
  async diff(_id, olds, news) {
    const replaces = IDENTITY.filter((key) => JSON.stringify(olds[key]) !== JSON.stringify(news[key]));
    return { changes: replaces.length > 0, replaces: [...replaces], deleteBeforeReplace: false };
  },
  async create(inputs) {
    const { deployedModel, status } = await createDeployment(inputs, inputs.wait);
    return { id: deployedModel, outs: { ...inputs, deployedModel, status } };
  },
  async update(_id, olds, news) {
    return { outs: { ...olds, wait: news.wait } };
  },
  async delete(id, props) {
    await deleteDeployment(props.baseUrl, id);
  },
};

export interface BailianDeploymentArgs {
  readonly baseUrl: pulumi.Input<string>;
  readonly modelName: pulumi.Input<string>;
  readonly capacity: pulumi.Input<number>;
  readonly suffix?: pulumi.Input<string>;
  readonly wait: pulumi.Input<DeploymentWait>;
}

export class BailianDeployment extends pulumi.dynamic.Resource {
  /** The name callers pass as `model`. */
  declare readonly deployedModel: pulumi.Output<string>;
  declare readonly status: pulumi.Output<string>;

  constructor(name: string, args: BailianDeploymentArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      bailianDeploymentProvider,
      name,
      { ...args, deployedModel: undefined, status: undefined },
      opts,
      "backbone-bailian",
      "Deployment",
    );
  }
}
