import * as pulumi from "@pulumi/pulumi";
import { changedKeys, checkResult } from "../alibaba-api/checks";
import { type ProviderContext, resolveContext } from "../alibaba-api/context";
import { isNotFound, partialCreateFailure } from "../alibaba-api/failure";
import { endpointFromEnv, type RoaCaller, roaClient } from "../alibaba-api/openapi";
import { type PollSettings, pollStatus } from "../alibaba-api/poll";

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

export type DeploymentWait = PollSettings;

export interface BailianDeploymentState extends BailianDeploymentSpec {
  readonly wait: DeploymentWait;
  readonly deployedModel: string;
  readonly status: string;
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

function dashscope(baseUrl: string, env: Record<string, string | undefined>): RoaCaller {
  const key = env.DASHSCOPE_API_KEY;
  if (!key) {
    throw new Error(
      "no DashScope API key: set DASHSCOPE_API_KEY in the environment of `pulumi up` (the key of the Model Studio workspace and region that deploys the model)",
    );
  }
  return roaClient({
    endpoint: endpointFromEnv(env, "BACKBONE_DASHSCOPE_BASE_URL", baseUrl),
    // DashScope ignores the OpenAPI version header; the path carries the API version.
    version: "v1",
    auth: { type: "Anonymous" },
    headers: { Authorization: `Bearer ${key}` },
  });
}

const deploymentPath = (id: string) => `/api/v1/deployments/${encodeURIComponent(id)}`;

export async function createDeployment(
  spec: BailianDeploymentSpec,
  wait: DeploymentWait,
  context: ProviderContext = {},
): Promise<{ deployedModel: string; status: string }> {
  const ctx = resolveContext(context);
  const call = dashscope(spec.baseUrl, ctx.env);
  const created = await call("CreateDeployment", "POST", "/api/v1/deployments", {
    body: { model_name: spec.modelName, capacity: spec.capacity, ...(spec.suffix ? { suffix: spec.suffix } : {}) },
  });
  const deployedModel = created.output?.deployed_model;
  if (typeof deployedModel !== "string" || deployedModel === "") {
    throw new Error(
      `CreateDeployment answered without output.deployed_model: ${JSON.stringify(created).slice(0, 300)}`,
    );
  }
  ctx.progress(`Bailian deployment ${deployedModel} (${spec.modelName}): created`);
  // The engine records the deployment even when the wait fails, so destroy can delete it.
  const failed = (message: string, status: string) =>
    partialCreateFailure(message, deployedModel, { deployedModel, status });
  const { status } = await pollStatus({
    read: async () => (await call("GetDeployment", "GET", deploymentPath(deployedModel))).output ?? {},
    statusOf: (output) => String(output.status ?? "UNKNOWN"),
    describe: (status, output) =>
      `Bailian deployment ${deployedModel}: ${status} (${output.ready_capacity ?? 0}/${output.capacity ?? spec.capacity} ready)`,
    succeeded: ["RUNNING"],
    failure: (status, output) => {
      if (status !== "FAILED" && status !== "STOPPED") return undefined;
      // The documented object has no reason field; these are the names DashScope uses elsewhere [I].
      const reason = output.message ?? output.error_message ?? output.reason ?? "Model Studio gave no reason";
      return failed(`Bailian deployment ${deployedModel} (${spec.modelName}) is ${status}: ${reason}`, status);
    },
    timedOut: (status) =>
      failed(`Bailian deployment ${deployedModel} is still ${status} after ${wait.timeoutMinutes} min`, status),
    settings: wait,
    clock: ctx,
    progress: ctx.progress,
  });
  return { deployedModel, status };
}

export async function deleteDeployment(baseUrl: string, id: string, context: ProviderContext = {}): Promise<void> {
  try {
    await dashscope(baseUrl, resolveContext(context).env)("DeleteDeployment", "DELETE", deploymentPath(id));
  } catch (err) {
    if (isNotFound(err)) return;
    throw err;
  }
}

type Inputs = BailianDeploymentSpec & { wait: DeploymentWait };
const IDENTITY: readonly string[] = ["baseUrl", "modelName", "capacity", "suffix"];

const bailianDeploymentProvider: pulumi.dynamic.ResourceProvider<Inputs, BailianDeploymentState> = {
  async check(_olds, news) {
    return checkResult(news, deploymentProblems(news));
  },
  async diff(_id, olds, news) {
    const replaces = changedKeys(olds, news, IDENTITY);
    return { changes: replaces.length > 0, replaces, deleteBeforeReplace: false };
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
