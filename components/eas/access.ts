import * as pulumi from "@pulumi/pulumi";
import { type ProviderContext, resolveContext } from "../alibaba-api/context";
import { isNotFound } from "../alibaba-api/failure";
import { accessKeyFromEnv, endpointFromEnv, roaClient } from "../alibaba-api/openapi";
import { type PollSettings, pollStatus } from "../alibaba-api/poll";
import { configFingerprint } from "./service-config";

/**
 * How callers reach an EAS service, and EAS's own reason when a version fails to deploy.
 *
 * `alicloud.pai.Service` (provider 3.108.0, node_modules/@pulumi/alicloud/pai/service.d.ts) outputs
 * only createTime, develop, regionId, serviceConfig, status, tags and workspaceId: no endpoint and no
 * token. Its Terraform implementation (aliyun/terraform-provider-alicloud
 * alicloud/resource_alicloud_pai_service.go, service_alicloud_pai_v2.go) waits for Status "Running"
 * and on "Failed" returns only "Failed to reach target status. Current status is Failed": EAS's
 * Reason and Message are dropped [V: read in that source].
 *
 * So this resource is a lookup: DescribeService (EAS 2021-07-01, ROA
 * `GET /api/v2/services/{ClusterId}/{ServiceName}`, the call the provider itself makes) gives
 * `AccessToken`, `IntranetEndpoint`, `Status`, `Reason`, `Message` and `ServiceConfig`
 * [V: the fields ROS's DATASOURCE::PAI::Service returns, https://www.alibabacloud.com/help/ja/ros/developer-reference/datasource-pai-service].
 * It is registered beside the service, not after it, and polls until EAS runs this version (the
 * fingerprint of image, command and model path read back from ServiceConfig) or reports Failed: then
 * `pulumi up` fails here with EAS's Reason and Message, next to the provider's bare status [I: that a
 * failed rolling update shows Status "Failed" or keeps the old fingerprint until the timeout].
 * Endpoint pai-eas.<region>.aliyuncs.com [I]; BACKBONE_EAS_ENDPOINT points it at a local fake.
 */

export const EAS_VERSION = "2021-07-01";

export interface ServiceAccessInputs {
  readonly region: string;
  readonly serviceName: string;
  /** configFingerprint() of the config this update deploys. */
  readonly fingerprint: string;
  readonly wait: PollSettings;
}

export interface ServiceAccessOutputs extends ServiceAccessInputs {
  /** http://…/api/predict/<service>, the VPC address callers use. */
  readonly intranetEndpoint: string;
  readonly token: string;
  readonly status: string;
}

export type Verdict =
  | { readonly kind: "ready" }
  | { readonly kind: "failed"; readonly reason: string }
  | { readonly kind: "waiting"; readonly why: string };

/** Whether DescribeService's answer shows this version serving. Pure: tested directly. */
export function rolloutVerdict(
  described: Record<string, any> | undefined,
  fingerprint: string,
  fingerprintOf: (config: Record<string, any>) => string,
): Verdict {
  if (!described) return { kind: "waiting", why: "not created yet" };
  const status = String(described.Status ?? "Unknown");
  const reason = [described.Reason, described.Message].filter((part) => part).join(": ") || "EAS gave no reason";
  if (status === "Failed") return { kind: "failed", reason: `${status}: ${reason}` };
  let running = "";
  try {
    running = fingerprintOf(JSON.parse(String(described.ServiceConfig ?? "{}")));
  } catch {
    running = "";
  }
  if (running !== fingerprint)
    return { kind: "waiting", why: `${status}, still serving the previous version (${reason})` };
  if (status === "Running") return { kind: "ready" };
  return { kind: "waiting", why: `${status} (${reason})` };
}

/** The VPC address as callers need it: with a scheme, no trailing slash. */
export function normaliseEndpoint(endpoint: string): string {
  const trimmed = endpoint.trim().replace(/\/+$/, "");
  return /^https?:\/\//.test(trimmed) ? trimmed : `http://${trimmed}`;
}

export async function awaitService(
  inputs: ServiceAccessInputs,
  fingerprintOf: (config: Record<string, any>) => string,
  context: ProviderContext = {},
): Promise<{ intranetEndpoint: string; token: string; status: string }> {
  const ctx = resolveContext(context);
  const call = roaClient({
    endpoint: endpointFromEnv(ctx.env, "BACKBONE_EAS_ENDPOINT", `https://pai-eas.${inputs.region}.aliyuncs.com`),
    version: EAS_VERSION,
    auth: { type: "AK", credentials: accessKeyFromEnv(ctx.env) },
  });
  const path = `/api/v2/services/${encodeURIComponent(inputs.region)}/${encodeURIComponent(inputs.serviceName)}`;
  const read = async () => {
    try {
      return await call("DescribeService", "GET", path);
    } catch (err) {
      if (isNotFound(err, "InvalidService.NotFound")) return undefined;
      throw err;
    }
  };
  const verdictOf = (answer: Record<string, any> | undefined) =>
    rolloutVerdict(answer, inputs.fingerprint, fingerprintOf);
  const { answer } = await pollStatus({
    read,
    statusOf: (answer) => verdictOf(answer).kind,
    describe: (_kind, answer) => {
      const verdict = verdictOf(answer);
      return `EAS service ${inputs.serviceName}: ${verdict.kind === "waiting" ? verdict.why : verdict.kind}`;
    },
    succeeded: ["ready"],
    failure: (_kind, answer) => {
      const verdict = verdictOf(answer);
      return verdict.kind === "failed"
        ? new Error(`EAS service ${inputs.serviceName} failed to deploy: ${verdict.reason}`)
        : undefined;
    },
    timedOut: () =>
      new Error(
        `EAS service ${inputs.serviceName} is not running this version after ${inputs.wait.timeoutMinutes} min`,
      ),
    settings: inputs.wait,
    clock: ctx,
    progress: ctx.progress,
  });
  const described = answer as Record<string, any>;
  return {
    intranetEndpoint: normaliseEndpoint(String(described.IntranetEndpoint ?? "")),
    token: String(described.AccessToken ?? ""),
    status: String(described.Status),
  };
}

type Inputs = ServiceAccessInputs;

const serviceAccessProvider: pulumi.dynamic.ResourceProvider<Inputs, ServiceAccessOutputs> = {
  async diff(_id, olds, news) {
    // A new version, another service or another region is a new lookup; the wait settings alone are not.
    const changed =
      olds.fingerprint !== news.fingerprint || olds.serviceName !== news.serviceName || olds.region !== news.region;
    const waitChanged = JSON.stringify(olds.wait) !== JSON.stringify(news.wait);
    return { changes: changed || waitChanged, replaces: changed ? ["fingerprint"] : [] };
  },
  async create(inputs) {
    const found = await awaitService(inputs, configFingerprint);
    return { id: `${inputs.region}/${inputs.serviceName}`, outs: { ...inputs, ...found } };
  },
  async update(_id, olds, news) {
    return { outs: { ...olds, wait: news.wait } };
  },
  // Nothing to delete: the service is alicloud.pai.Service's.
  async delete() {},
};

export interface ServiceAccessArgs {
  readonly region: pulumi.Input<string>;
  readonly serviceName: pulumi.Input<string>;
  readonly fingerprint: pulumi.Input<string>;
  readonly wait: pulumi.Input<PollSettings>;
}

/** DescribeService's endpoint and token once EAS runs this version; fails with EAS's reason. */
export class EasServiceAccess extends pulumi.dynamic.Resource {
  declare readonly intranetEndpoint: pulumi.Output<string>;
  declare readonly token: pulumi.Output<string>;
  declare readonly status: pulumi.Output<string>;

  constructor(name: string, args: ServiceAccessArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      serviceAccessProvider,
      name,
      { ...args, intranetEndpoint: undefined, token: undefined, status: undefined },
      { ...opts, additionalSecretOutputs: ["token"] },
      "backbone-eas",
      "ServiceAccess",
    );
  }
}
