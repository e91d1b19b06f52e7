import * as alicloud from "@pulumi/alicloud";
import * as pulumi from "@pulumi/pulumi";
import { attributed } from "../errors";
import { fleetId, hostSlots } from "./fleet";
import { PORTS, renderUserData, type ServedModel } from "./user-data";

export interface GpuSettings {
  readonly instanceType: string;
  readonly count: number;
  readonly spot: boolean;
  readonly diskSizeGb: number;
}

export interface ServingArgs {
  readonly cloudName: string;
  readonly region: string;
  readonly gpu: GpuSettings;
  readonly vpcId: pulumi.Input<string>;
  /** vSwitch ids and their zones, in the same order; the NLB needs two zones. */
  readonly vswitchIds: pulumi.Input<string[]>;
  readonly zoneIds: pulumi.Input<string[]>;
  /** The number of vSwitches, known before deployment (host names depend on it). */
  readonly vswitchCount: number;
  /** The gpu tier's security group (components/network): 8080/8082 from the VPC only. */
  readonly securityGroupId: pulumi.Input<string>;
  /** The serving RAM role (components/identity): reads models/ of the artifacts bucket only. */
  readonly roleName: pulumi.Input<string>;
  readonly artifactsBucket: pulumi.Input<string>;
  readonly ossEndpoint: pulumi.Input<string>;
  /**
   * The .mar files to serve, pinned by object key (models/<name>/<version>/<name>.mar). Plain values:
   * host names derive from them, so a preview shows the exact hosts an update will create.
   */
  readonly models: readonly ServedModel[];
  /** Resources the hosts must wait for, e.g. the training runs that write the .mar files. */
  readonly after?: pulumi.Input<pulumi.Resource>[];
  /** Pinned Python packages the handlers need besides TorchServe. */
  readonly pipPackages: readonly string[];
  readonly tags: Record<string, string>;
}

/** NLB health check: TorchServe's GET /ping answers 200 {"status":"Healthy"} once workers are up. */
export const HEALTH_CHECK = {
  healthCheckEnabled: true,
  healthCheckType: "HTTP",
  healthCheckUrl: "/ping",
  httpCheckMethod: "GET",
  healthCheckConnectPort: PORTS.inference,
  healthCheckHttpCodes: ["http_2xx"],
  healthCheckInterval: 10,
  healthyThreshold: 2,
  unhealthyThreshold: 3,
  healthCheckConnectTimeout: 5,
} as const;

/**
 * TorchServe on gn7i hosts behind an internal NLB. Hosts have no public address, run as the
 * serving RAM role, and fetch their pinned .mar files at boot. See fleet.ts for the replacement
 * order when the models change.
 */
export class Serving extends pulumi.ComponentResource {
  /** http://<NLB DNS name>:8080, the inference API; paths are /predictions/<model name>. */
  public readonly baseUrl: pulumi.Output<string>;
  public readonly hostIds: pulumi.Output<string[]>;
  /** The fleet id in every host's name (fleet.ts). */
  public readonly fleet: string;

  constructor(name: string, args: ServingArgs, opts?: pulumi.ComponentResourceOptions) {
    super("backbone:serving:Serving", name, {}, opts);
    const { gpu } = args;

    const image = alicloud.ecs.getImagesOutput(
      { nameRegex: "^aliyun_3_x64", owners: "system", mostRecent: true, instanceType: gpu.instanceType },
      { parent: this },
    );
    const imageId = image.apply((found) => {
      const id = found.ids?.[0];
      if (!id)
        throw new pulumi.ResourceError(
          `no Alibaba Cloud Linux 3 image for ${gpu.instanceType} in ${args.region}`,
          this,
        );
      return id;
    });
    const userData = pulumi
      .all([args.artifactsBucket, args.ossEndpoint, args.roleName])
      .apply(([bucket, ossEndpoint, roleName]) =>
        attributed(this, () =>
          renderUserData({
            region: args.region,
            bucket,
            ossEndpoint,
            roleName,
            models: args.models,
            pipPackages: args.pipPackages,
          }),
        ),
      );

    const lb = new alicloud.nlb.LoadBalancer(
      `${name}-nlb`,
      {
        loadBalancerName: `${args.cloudName}-models`,
        addressType: "Intranet",
        addressIpVersion: "ipv4",
        vpcId: args.vpcId,
        zoneMappings: pulumi
          .all([args.vswitchIds, args.zoneIds])
          .apply(([ids, zones]) => ids.map((vswitchId, i) => ({ vswitchId, zoneId: zones[i] as string }))),
        securityGroupIds: [args.securityGroupId],
        tags: args.tags,
      },
      { parent: this },
    );
    const group = new alicloud.nlb.ServerGroup(
      `${name}-servers`,
      {
        serverGroupName: `${args.cloudName}-torchserve`,
        serverGroupType: "Instance",
        protocol: "TCP",
        vpcId: args.vpcId,
        scheduler: "Wrr",
        // Requests in flight finish on a host leaving the group (old fleet at replacement).
        connectionDrainEnabled: true,
        connectionDrainTimeout: 60,
        healthCheck: { ...HEALTH_CHECK, healthCheckHttpCodes: [...HEALTH_CHECK.healthCheckHttpCodes] },
        tags: args.tags,
      },
      { parent: this },
    );
    new alicloud.nlb.Listener(
      `${name}-listener`,
      {
        loadBalancerId: lb.id,
        serverGroupId: group.id,
        listenerProtocol: "TCP",
        listenerPort: PORTS.inference,
        listenerDescription: "TorchServe inference API (model-endpoint contract)",
        tags: args.tags,
      },
      { parent: this },
    );

    const fleet = attributed(this, () =>
      fleetId({
        models: args.models,
        type: gpu.instanceType,
        disk: gpu.diskSizeGb,
        spot: gpu.spot,
        packages: args.pipPackages,
      }),
    );
    this.fleet = fleet;
    const slots = attributed(this, () => hostSlots(gpu.count, args.vswitchCount, fleet));
    const hostIds = slots.map((slot) => {
      const host = new alicloud.ecs.Instance(
        `${name}-host-${slot.key}`,
        {
          instanceName: `${args.cloudName}-torchserve-${slot.key}`,
          hostName: `torchserve-${slot.key}`,
          instanceType: gpu.instanceType,
          imageId,
          vswitchId: pulumi.output(args.vswitchIds).apply((ids) => ids[slot.vswitch] as string),
          securityGroups: [args.securityGroupId],
          instanceChargeType: "PostPaid",
          spotStrategy: gpu.spot ? "SpotAsPriceGo" : "NoSpot",
          systemDiskCategory: "cloud_essd",
          systemDiskSize: gpu.diskSizeGb,
          internetMaxBandwidthOut: 0,
          roleName: args.roleName,
          userData,
          tags: { ...args.tags, fleet },
        },
        // A changed boot script is a new host (never an in-place stop/modify), and the new one comes first.
        { parent: this, replaceOnChanges: ["userData"], deleteBeforeReplace: false, dependsOn: args.after ?? [] },
      );
      new alicloud.nlb.ServerGroupServerAttachment(
        `${name}-attach-${slot.key}`,
        {
          serverGroupId: group.id,
          serverId: host.id,
          serverType: "Ecs",
          port: PORTS.inference,
          weight: 100,
          description: `TorchServe host ${slot.key}`,
        },
        { parent: this, deleteBeforeReplace: false },
      );
      return host.id;
    });
    this.hostIds = pulumi.all(hostIds);
    this.baseUrl = pulumi.interpolate`http://${lb.dnsName}:${PORTS.inference}`;
    this.registerOutputs({ baseUrl: this.baseUrl, hostIds: this.hostIds, fleet: this.fleet });
  }
}
