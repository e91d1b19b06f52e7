import * as alicloud from "@pulumi/alicloud";
import * as pulumi from "@pulumi/pulumi";
import { attributed } from "../errors";
import {
  enterpriseRegistryHost,
  imageReference,
  personalRegistryHost,
  type RegistryNetwork,
  registryHost,
  registryNamespaceUrl,
} from "./endpoints";

/** The registry component's contract; the stack maps its validated config onto it. */
export interface RegistrySettings {
  /** `enterprise`: a dedicated ACR EE instance with a VPC endpoint; `personal`: the shared free edition. */
  readonly edition: "enterprise" | "personal";
  readonly namespace: string;
  readonly repository: string;
}

/** How an image builder pushes to the repository; the stack maps its validated config onto it. */
export interface RegistryPushSettings {
  /** The host pushed to: "internet" (a CI runner) or "vpc" (a runner inside the VPC). */
  readonly pushEndpoint: RegistryNetwork;
  /**
   * Fixed push credentials (the personal edition's registry password). Unset on Enterprise: a
   * temporary token from GetAuthorizationToken (valid one hour, read afresh on each run:
   * https://www.alibabacloud.com/help/en/doc-detail/145324.htm).
   */
  readonly username?: string | undefined;
  readonly password?: pulumi.Input<string> | undefined;
}

/** What an image builder needs to push, and where the nodes pull the pushed digest from. */
export interface RegistryPush {
  /** `host/namespace/repository` on the push host. */
  readonly repositoryUrl: pulumi.Output<string>;
  /** The push host, as `docker login` takes it. */
  readonly server: pulumi.Output<string>;
  readonly username: pulumi.Output<string>;
  /** Secret. */
  readonly password: pulumi.Output<string>;
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
  /** Set when something pushes images here; `push` is undefined without it. */
  readonly push?: RegistryPushSettings | undefined;
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
  /** `host/namespace` on the same host as `repositoryUrl`: where mirrored images go. */
  public readonly namespaceUrl: pulumi.Output<string>;
  /** The same repository on the registry's Internet host, for pushing from outside the VPC. */
  public readonly internetRepositoryUrl: pulumi.Output<string>;
  public readonly namespace: pulumi.Output<string>;
  public readonly repository: pulumi.Output<string>;
  /** The Enterprise instance id; undefined on the personal edition. */
  public readonly instanceId: pulumi.Output<string | undefined>;
  /** Push host, repository and credentials; undefined unless `args.push` is set. */
  public readonly push: RegistryPush | undefined;

  constructor(name: string, args: RegistryArgs, opts?: pulumi.ComponentResourceOptions) {
    super("backbone:registry:Registry", name, {}, opts);
    const childOpts = { parent: this, protect: args.protect };
    const { settings } = args;
    const summary = `${args.cloudName} ${settings.repository}`;
    const push = args.push;
    if (push && settings.edition === "personal" && (push.username === undefined || push.password === undefined)) {
      const missing = push.username === undefined ? "username" : "password";
      throw new pulumi.ResourceError(
        `push.${missing}: not set; expected push credentials on the personal edition (its fixed registry password)`,
        this,
      );
    }

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

    this.namespaceUrl = this.repositoryUrl.apply((url) => attributed(this, () => registryNamespaceUrl(url)));
    this.push = args.push ? this.pushTo(args.push) : undefined;

    this.registerOutputs({
      repositoryUrl: this.repositoryUrl,
      namespaceUrl: this.namespaceUrl,
      ...(this.push ? { pushRepositoryUrl: this.push.repositoryUrl, pushServer: this.push.server } : {}),
      internetRepositoryUrl: this.internetRepositoryUrl,
      namespace: this.namespace,
      repository: this.repository,
      instanceId: this.instanceId,
    });
  }

  private pushTo(settings: RegistryPushSettings): RegistryPush {
    const repositoryUrl = settings.pushEndpoint === "vpc" ? this.repositoryUrl : this.internetRepositoryUrl;
    const server = repositoryUrl.apply((url) => attributed(this, () => registryHost(url)));
    if (settings.username !== undefined && settings.password !== undefined) {
      return {
        repositoryUrl,
        server,
        username: pulumi.output(settings.username),
        password: pulumi.secret(settings.password),
      };
    }
    // The invoke inherits this component's provider (opts.providers), like its children.
    const instance = alicloud.cs
      .getRegistryEnterpriseInstancesOutput(
        { ids: this.instanceId.apply((id) => (id ? [id] : [])), enableDetails: true },
        { parent: this },
      )
      .instances.apply((instances) => {
        const found = instances[0];
        if (!found) {
          throw new pulumi.ResourceError(
            "push: the Enterprise instance reported no authorization token; expected GetAuthorizationToken to answer",
            this,
          );
        }
        return found;
      });
    return {
      repositoryUrl,
      server,
      username: instance.tempUsername,
      password: pulumi.secret(instance.authorizationToken),
    };
  }
}
