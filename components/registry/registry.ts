import * as alicloud from "@pulumi/alicloud";
import * as pulumi from "@pulumi/pulumi";
import { attributed } from "../errors";
import { enterpriseRegistryHost, imageReference, personalRegistryHost } from "./endpoints";

/** The registry component's contract; the stack maps its validated config onto it. */
export interface RegistrySettings {
  /** `enterprise`: a dedicated ACR EE instance with a VPC endpoint; `personal`: the shared free edition. */
  readonly edition: "enterprise" | "personal";
  readonly namespace: string;
  readonly repository: string;
}

export interface RegistryArgs {
  /** Prefix of every cloud name, e.g. "acme-prod"; the Enterprise instance is named after it. */
  readonly cloudName: string;
  readonly settings: RegistrySettings;
  /** With both, the Enterprise instance gets a VPC endpoint in this VPC (ignored by the personal edition). */
  readonly vpcId?: alicloud.cr.VpcEndpointLinkedVpcArgs["vpcId"];
  readonly vswitchId?: alicloud.cr.VpcEndpointLinkedVpcArgs["vswitchId"];
  readonly tags: Record<string, string>;
  readonly protect: boolean;
}

/**
 * Enterprise edition (prod): a Basic ACR EE instance, the cheapest tier that has VPC endpoints and
 * image scanning, is enough for one private repository. It is a subscription (prepaid, monthly,
 * auto-renewed; there is no pay-as-you-go), so it is retained on delete: stop renewal in the console to
 * release it. Personal edition: a namespace and repository on the free shared registry; namespace names
 * are unique per region across all accounts.
 * Both: private repository, no auto-created repositories; tags are immutable on Enterprise.
 * Nodes still need pull credentials (e.g. the aliyun-acr-credential-helper add-on); not set up here.
 */
export class Registry extends pulumi.ComponentResource {
  /** Image reference without tag, on the VPC endpoint where there is one (what ACK should pull). */
  public readonly repositoryUrl: pulumi.Output<string>;
  /** The same repository on the registry's Internet host, for pushing from outside the VPC. */
  public readonly internetRepositoryUrl: pulumi.Output<string>;
  public readonly namespace: pulumi.Output<string>;
  public readonly repository: pulumi.Output<string>;
  /** The Enterprise instance id; undefined on the personal edition. */
  public readonly instanceId: pulumi.Output<string | undefined>;

  constructor(name: string, args: RegistryArgs, opts?: pulumi.ComponentResourceOptions) {
    super("backbone:registry:Registry", name, {}, opts);
    const childOpts = { parent: this, protect: args.protect };
    const { settings } = args;
    const summary = `${args.cloudName} ${settings.repository}`;

    if (settings.edition === "personal") {
      const namespace = new alicloud.cr.Namespace(
        `${name}-namespace`,
        { name: settings.namespace, autoCreate: false, defaultVisibility: "PRIVATE" },
        childOpts,
      );
      const repo = new alicloud.cr.Repo(
        `${name}-repo`,
        { namespace: namespace.name, name: settings.repository, repoType: "PRIVATE", summary },
        childOpts,
      );
      this.namespace = namespace.name;
      this.repository = repo.name;
      this.instanceId = pulumi.output(undefined);
      this.repositoryUrl = pulumi
        .all([repo.domainList, namespace.name, repo.name])
        .apply(([domains, ns, r]) => attributed(this, () => imageReference(personalRegistryHost(domains), ns, r)));
      this.internetRepositoryUrl = pulumi
        .all([repo.domainList, namespace.name, repo.name])
        .apply(([domains, ns, r]) =>
          attributed(this, () => imageReference(personalRegistryHost(domains, "internet"), ns, r)),
        );
    } else {
      const instance = new alicloud.cr.RegistryEnterpriseInstance(
        `${name}-instance`,
        {
          instanceName: args.cloudName,
          instanceType: "Basic",
          paymentType: "Subscription",
          period: 1,
          renewalStatus: "AutoRenewal",
          renewPeriod: 1,
          imageScanner: "ACR",
          tags: args.tags,
        },
        { ...childOpts, retainOnDelete: true },
      );
      const namespace = new alicloud.cs.RegistryEnterpriseNamespace(
        `${name}-namespace`,
        { instanceId: instance.id, name: settings.namespace, autoCreate: false, defaultVisibility: "PRIVATE" },
        childOpts,
      );
      const repo = new alicloud.cs.RegistryEnterpriseRepo(
        `${name}-repo`,
        {
          instanceId: instance.id,
          namespace: namespace.name,
          name: settings.repository,
          repoType: "PRIVATE",
          summary,
          tagImmutability: true,
        },
        childOpts,
      );
      const linked =
        args.vpcId !== undefined && args.vswitchId !== undefined
          ? new alicloud.cr.VpcEndpointLinkedVpc(
              `${name}-vpc-endpoint`,
              {
                instanceId: instance.id,
                vpcId: args.vpcId,
                vswitchId: args.vswitchId,
                moduleName: "Registry",
                // A PrivateZone record so nodes resolve the -registry-vpc name to the endpoint.
                enableCreateDnsRecordInPvzt: true,
              },
              childOpts,
            )
          : undefined;
      this.namespace = namespace.name;
      this.repository = repo.name;
      this.instanceId = instance.id;
      this.repositoryUrl = pulumi
        .all([
          instance.instanceEndpoints,
          instance.instanceName,
          instance.regionId,
          namespace.name,
          repo.name,
          linked?.id,
        ])
        .apply(([endpoints, instanceName, region, ns, r]) =>
          attributed(this, () =>
            imageReference(enterpriseRegistryHost(endpoints, instanceName, region, linked ? "vpc" : "internet"), ns, r),
          ),
        );
      this.internetRepositoryUrl = pulumi
        .all([instance.instanceEndpoints, instance.instanceName, instance.regionId, namespace.name, repo.name])
        .apply(([endpoints, instanceName, region, ns, r]) =>
          imageReference(enterpriseRegistryHost(endpoints, instanceName, region, "internet"), ns, r),
        );
    }

    this.registerOutputs({
      repositoryUrl: this.repositoryUrl,
      internetRepositoryUrl: this.internetRepositoryUrl,
      namespace: this.namespace,
      repository: this.repository,
      instanceId: this.instanceId,
    });
  }
}
