import type * as alicloud from "@pulumi/alicloud";
import type * as pulumi from "@pulumi/pulumi";

/**
 * Which traffic each tier's security group admits. Every rule admits traffic from inside the VPC
 * only, or from the same security group; nothing here may ever name the Internet. Egress stays
 * at the basic security group's default (allow all), which the NAT gateway needs.
 */

export const SECURITY_TIERS = ["gpu", "cluster", "search"] as const;
export type SecurityTier = (typeof SECURITY_TIERS)[number];

/** TorchServe's default ports. Management can register, scale and delete models, so it stays closed. */
export const TORCHSERVE_PORTS = { inference: 8080, management: 8081, metrics: 8082 } as const;

export interface PortSpan {
  readonly from: number;
  readonly to: number;
}

export interface IngressRule {
  /** Stable and unique within its tier; part of the rule's Pulumi name. */
  readonly key: string;
  readonly description: string;
  readonly protocol: "tcp" | "all";
  /** "all" only goes with protocol "all". */
  readonly ports: PortSpan | "all";
  /** "vpc": the VPC CIDR. "same-group": members of this security group. */
  readonly source: "vpc" | "same-group";
}

const single = (port: number): PortSpan => ({ from: port, to: port });

export const INGRESS_RULES: Readonly<Record<SecurityTier, readonly IngressRule[]>> = {
  gpu: [
    {
      key: "inference",
      description: "TorchServe inference API",
      protocol: "tcp",
      ports: single(TORCHSERVE_PORTS.inference),
      source: "vpc",
    },
    {
      key: "metrics",
      description: "TorchServe metrics for Prometheus",
      protocol: "tcp",
      ports: single(TORCHSERVE_PORTS.metrics),
      source: "vpc",
    },
  ],
  cluster: [
    {
      key: "nodeports",
      description: "Kubernetes NodePort services, the backends of internal load balancers",
      protocol: "tcp",
      ports: { from: 30000, to: 32767 },
      source: "vpc",
    },
    {
      key: "kubelet",
      description: "kubelet API, called by the managed control plane (logs, exec, metrics)",
      protocol: "tcp",
      ports: single(10250),
      source: "vpc",
    },
    {
      // Terway gives pods ENIs in the node's security group, so pod-to-pod traffic on any port is
      // traffic within this group; ACK's recommended rule is all protocols from the group itself.
      key: "intra-group",
      description: "Node-to-node and pod-to-pod traffic within the cluster",
      protocol: "all",
      ports: "all",
      source: "same-group",
    },
  ],
  search: [
    {
      key: "http",
      description: "Elasticsearch/OpenSearch REST API",
      protocol: "tcp",
      ports: single(9200),
      source: "vpc",
    },
    {
      key: "transport",
      description: "Elasticsearch/OpenSearch node-to-node transport",
      protocol: "tcp",
      ports: single(9300),
      source: "vpc",
    },
  ],
};

/** The provider's "from/to" notation; "-1/-1" means every port and is required for protocol "all". */
export function portRange(rule: Pick<IngressRule, "ports">): string {
  return rule.ports === "all" ? "-1/-1" : `${rule.ports.from}/${rule.ports.to}`;
}

/** Whether a rule lets `port`/`protocol` in. */
export function admits(rule: IngressRule, protocol: "tcp" | "udp", port: number): boolean {
  if (rule.protocol !== "all" && rule.protocol !== protocol) return false;
  return rule.ports === "all" || (port >= rule.ports.from && port <= rule.ports.to);
}

export interface RuleTarget {
  readonly securityGroupId: pulumi.Input<string>;
  readonly vpcCidr: pulumi.Input<string>;
}

/** The provider arguments for one rule of the table. */
export function ingressRuleArgs(rule: IngressRule, target: RuleTarget): alicloud.ecs.SecurityGroupRuleArgs {
  const source = rule.source === "vpc" ? { cidrIp: target.vpcCidr } : { sourceSecurityGroupId: target.securityGroupId };
  return {
    securityGroupId: target.securityGroupId,
    type: "ingress",
    policy: "accept",
    ipProtocol: rule.protocol,
    portRange: portRange(rule),
    // VPC security groups need "intranet"; the rule then applies to every interface.
    nicType: "intranet",
    priority: 1,
    description: rule.description,
    ...source,
  };
}
