import * as alicloud from "@pulumi/alicloud";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CLUSTER_ADDONS, type ClusterSettings, searchPoolArgs, systemPoolArgs } from "./settings";

export interface ClusterArgs {
  /** Prefix of every cloud name, e.g. "acme-dev": the cluster is `${cloudName}-ack`, pools `${cloudName}-system|search`. */
  readonly cloudName: string;
  readonly settings: ClusterSettings;
  /** Control plane and node vSwitches, one per zone. */
  readonly vswitchIds: pulumi.Input<pulumi.Input<string>[]>;
  readonly securityGroupId: pulumi.Input<string>;
  readonly tags: Record<string, string>;
  /** True for prod: deletion protection on the cluster and `protect` on it and its node pools. */
  readonly protect: boolean;
}

/**
 * An ACK managed cluster with RRSA, a private API server (unless settings.apiEndpointPublic), a
 * `system` and a tainted `search` node pool, and a Kubernetes provider for the components that deploy
 * into it. The provider talks to the API server's private address, so `pulumi up` must run from
 * inside the VPC (or over VPN/CEN) unless the endpoint is public.
 */
export class Cluster extends pulumi.ComponentResource {
  public readonly clusterId: pulumi.Output<string>;
  /** `acs:ram::<uid>:oidc-provider/ack-rrsa-<clusterId>`, for RRSA trust policies. */
  public readonly rrsaOidcProviderArn: pulumi.Output<string>;
  public readonly rrsaIssuerUrl: pulumi.Output<string>;
  /** Admin kubeconfig; secret. */
  public readonly kubeconfig: pulumi.Output<string>;
  public readonly nodePoolIds: { readonly system: pulumi.Output<string>; readonly search: pulumi.Output<string> };
  /** For every later component that deploys into the cluster. */
  public readonly provider: k8s.Provider;

  constructor(name: string, args: ClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("backbone:cluster:Cluster", name, {}, opts);
    const { settings, protect, tags } = args;
    const childOpts = { parent: this, protect };

    const cluster = new alicloud.cs.ManagedKubernetes(
      `${name}-ack`,
      {
        name: `${args.cloudName}-ack`,
        clusterSpec: settings.spec,
        version: settings.kubernetesVersion,
        vswitchIds: args.vswitchIds,
        securityGroupId: args.securityGroupId,
        podCidr: settings.podCidr,
        serviceCidr: settings.serviceCidr,
        proxyMode: "ipvs",
        // Egress comes from the network component's NAT gateway; ACK must not add its own.
        newNatGateway: false,
        // No Internet-facing SLB/EIP for the API server unless the stack explicitly asks for one.
        slbInternetEnabled: settings.apiEndpointPublic,
        enableRrsa: true,
        deletionProtection: protect,
        // Keep the cluster CA out of state; the kubeconfig below carries what the provider needs.
        skipSetCertificateAuthority: true,
        addons: [...CLUSTER_ADDONS],
        // Unprotected stacks come and go: take the logging SLS projects with them.
        deleteOptions: protect
          ? undefined
          : [
              { resourceType: "SLS_Data", deleteMode: "delete" },
              { resourceType: "SLS_ControlPlane", deleteMode: "delete" },
            ],
        tags,
      },
      childOpts,
    );

    const placement = {
      clusterId: cluster.id,
      cloudName: args.cloudName,
      vswitchIds: args.vswitchIds,
      securityGroupId: args.securityGroupId,
      tags,
    };
    const system = new alicloud.cs.NodePool(`${name}-system`, systemPoolArgs(placement, settings), childOpts);
    const search = new alicloud.cs.NodePool(`${name}-search`, searchPoolArgs(placement, settings), childOpts);

    // The admin kubeconfig from the cluster credential data source (the cluster's own kubeConfig/
    // client* fields are deprecated since provider 1.248.0). Secret everywhere it flows.
    const credential = alicloud.cs.getClusterCredentialOutput({ clusterId: cluster.id }, { parent: this });
    this.kubeconfig = pulumi.secret(credential.kubeConfig);
    this.provider = new k8s.Provider(
      `${name}-k8s`,
      {
        kubeconfig: this.kubeconfig,
        // Replace the provider (and everything it deployed) only if the cluster itself changes, not
        // when the credential is reissued.
        clusterIdentifier: cluster.id,
      },
      { parent: this },
    );

    this.clusterId = cluster.id;
    this.rrsaOidcProviderArn = cluster.rrsaMetadata.apply((m) => m?.ramOidcProviderArn ?? "");
    this.rrsaIssuerUrl = cluster.rrsaMetadata.apply((m) => m?.rrsaOidcIssuerUrl ?? "");
    this.nodePoolIds = { system: system.id, search: search.id };
    this.registerOutputs({
      clusterId: this.clusterId,
      rrsaOidcProviderArn: this.rrsaOidcProviderArn,
      rrsaIssuerUrl: this.rrsaIssuerUrl,
      kubeconfig: this.kubeconfig,
      nodePoolIds: this.nodePoolIds,
    });
  }
}
