import * as alicloud from "@pulumi/alicloud";
import * as pulumi from "@pulumi/pulumi";
import type { PollSettings } from "../alibaba-api/poll";
import { attributed } from "../errors";
import { EasServiceAccess } from "./access";
import { configFingerprint, type EasServiceSpec, renderServiceConfig } from "./service-config";

export interface ModelServiceArgs {
  readonly region: string;
  /** Everything but the network, which comes from the stack's outputs. */
  readonly spec: Omit<EasServiceSpec, "network">;
  readonly network: {
    readonly vpcId: pulumi.Input<string>;
    readonly vswitchId: pulumi.Input<string>;
    readonly securityGroupId: pulumi.Input<string>;
  };
  /** How long `pulumi up` waits for EAS to run a new version. */
  readonly wait: PollSettings;
  readonly tags: Record<string, string>;
}

/**
 * A model served on PAI-EAS (`alicloud.pai.Service`), reachable from the stack's VPC only, with the
 * endpoint and token callers need. Like pulumi-eks's components, bad arguments fail in the
 * constructor, naming the field, before anything is registered.
 *
 * Rollout: a new version (image, command or model path) is an UpdateService of the same service;
 * EAS's rolling update starts the new instances first (rolling_strategy max_unavailable 0) and moves
 * traffic only to instances that pass the readiness check, so the old version serves until the new
 * one is ready [V: EAS's scrolling-update page, service-config.ts]. EAS's traffic-split (service
 * groups with weights) and update plans (`features["eas.aliyun.com/enable-rollout"]`, only at
 * creation) are not used: one service per model keeps the endpoint and token stable.
 */
export class ModelService extends pulumi.ComponentResource {
  public readonly serviceName: string;
  /** The VPC address, http://…/api/predict/<service>. */
  public readonly endpoint: pulumi.Output<string>;
  /** The service's access token (secret), sent in the Authorization header. */
  public readonly token: pulumi.Output<string>;
  public readonly service: alicloud.pai.Service;

  constructor(name: string, args: ModelServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("backbone:eas:ModelService", name, {}, opts);
    const serviceConfig = pulumi
      .all([args.network.vpcId, args.network.vswitchId, args.network.securityGroupId])
      .apply(([vpcId, vswitchId, securityGroupId]) =>
        attributed(this, () => renderServiceConfig({ ...args.spec, network: { vpcId, vswitchId, securityGroupId } })),
      );
    // The network ids are unknown in preview; everything else is checked now, before any child exists.
    attributed(this, () =>
      renderServiceConfig({
        ...args.spec,
        network: { vpcId: "vpc-check", vswitchId: "vsw-check", securityGroupId: "sg-check" },
      }),
    );
    this.serviceName = args.spec.name;
    this.service = new alicloud.pai.Service(
      name,
      {
        serviceConfig: serviceConfig.apply((config) => JSON.stringify(config)),
        workspaceId: args.spec.workspaceId,
        develop: "false",
        tags: args.tags,
      },
      { parent: this },
    );
    // Beside the service, not after it: when EAS reports Failed, this fails with EAS's reason.
    const access = new EasServiceAccess(
      `${name}-access`,
      {
        region: args.region,
        serviceName: args.spec.name,
        fingerprint: serviceConfig.apply(configFingerprint),
        wait: args.wait,
      },
      { parent: this },
    );
    this.endpoint = access.intranetEndpoint;
    this.token = pulumi.secret(access.token);
    this.registerOutputs({ serviceName: this.serviceName, endpoint: this.endpoint });
  }
}
