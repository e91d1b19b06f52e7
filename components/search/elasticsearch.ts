import * as alicloud from "@pulumi/alicloud";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";

export interface ElasticsearchSettings {
  /** An Alibaba Cloud Elasticsearch version, e.g. "8.17.0" (the newest offered). */
  readonly version: string;
  readonly dataNodes: {
    readonly count: number;
    readonly spec: string;
    readonly diskSizeGb: number;
    readonly diskPerformanceLevel: string;
  };
  readonly zoneCount: number;
  readonly kibanaSpec: string;
}

export interface ElasticsearchArgs {
  readonly cloudName: string;
  readonly settings: ElasticsearchSettings;
  readonly vswitchId: alicloud.elasticsearch.InstanceArgs["vswitchId"];
  /** The only sources allowed to reach the instance and Kibana: the VPC's range. */
  readonly vpcCidr: pulumi.Input<string>;
  /** The `elastic` user's password; a secret. Unset: a random one is generated and kept (secret) in state. */
  readonly password?: pulumi.Input<string>;
  readonly tags: Record<string, string>;
  readonly protect: boolean;
}

/** Alibaba names versions with the edition; `_with_X-Pack` is the commercial edition [I for 8.17.0]. */
export const elasticsearchVersionName = (version: string) => `${version}_with_X-Pack`;

/**
 * Alibaba Cloud Elasticsearch, reachable from the VPC only: no public endpoint, private whitelist =
 * the VPC range, Kibana on the private network only, HTTPS, encrypted ESSD data disks.
 */
export class Elasticsearch extends pulumi.ComponentResource {
  public readonly instanceId: pulumi.Output<string>;
  /** The private endpoint, e.g. https://es-cn-xxx.elasticsearch.aliyuncs.com:9200. */
  public readonly url: pulumi.Output<string>;
  public readonly username: string = "elastic";
  public readonly password: pulumi.Output<string>;

  constructor(name: string, args: ElasticsearchArgs, opts?: pulumi.ComponentResourceOptions) {
    super("backbone:search:Elasticsearch", name, {}, opts);
    const { settings } = args;
    if (settings.dataNodes.count % settings.zoneCount !== 0) {
      throw new pulumi.ResourceError(
        `search.elasticsearch.dataNodes.count ${settings.dataNodes.count} is not a multiple of zoneCount ${settings.zoneCount}`,
        this,
      );
    }
    const password =
      args.password !== undefined
        ? pulumi.secret(args.password)
        : new random.RandomPassword(
            `${name}-password`,
            // Alibaba: 8-32 characters from at least three classes, specials limited to !@#$%^&*()_+-=.
            {
              length: 24,
              special: true,
              overrideSpecial: "!@#$%^&*()_+-=",
              minUpper: 2,
              minLower: 2,
              minNumeric: 2,
              minSpecial: 2,
            },
            { parent: this, protect: args.protect },
          ).result;

    const instance = new alicloud.elasticsearch.Instance(
      `${name}-instance`,
      {
        description: `${args.cloudName}-search`,
        version: elasticsearchVersionName(settings.version),
        paymentType: "PayAsYouGo",
        vswitchId: args.vswitchId,
        zoneCount: settings.zoneCount,
        dataNodeAmount: settings.dataNodes.count,
        dataNodeSpec: settings.dataNodes.spec,
        dataNodeDiskSize: settings.dataNodes.diskSizeGb,
        dataNodeDiskType: "cloud_essd",
        dataNodeDiskPerformanceLevel: settings.dataNodes.diskPerformanceLevel,
        dataNodeDiskEncrypted: true,
        password,
        protocol: "HTTPS",
        enablePublic: false,
        privateWhitelists: [args.vpcCidr],
        enableKibanaPublicNetwork: false,
        enableKibanaPrivateNetwork: true,
        kibanaPrivateWhitelists: [args.vpcCidr],
        kibanaNodeSpec: settings.kibanaSpec,
        tags: args.tags,
      },
      { parent: this, protect: args.protect, additionalSecretOutputs: ["password"] },
    );

    this.instanceId = instance.id;
    this.url = pulumi.interpolate`https://${instance.domain}:${instance.port}`;
    this.password = password;
    this.registerOutputs({ instanceId: this.instanceId, url: this.url, password: this.password });
  }
}
