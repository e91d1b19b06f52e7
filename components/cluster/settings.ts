import type * as alicloud from "@pulumi/alicloud";
import type * as pulumi from "@pulumi/pulumi";

/**
 * Pure translations from the cluster settings to provider inputs, kept apart from the component so
 * they can be read and tested on their own.
 */

export interface NodePoolSettings {
  readonly instanceTypes: readonly string[];
  readonly desiredSize: number;
}

export interface SearchPoolSettings extends NodePoolSettings {
  readonly diskSizeGb: number;
  readonly diskPerformanceLevel: "PL0" | "PL1" | "PL2" | "PL3";
}

/** The cluster component's contract; the stack maps its validated config onto it. */
export interface ClusterSettings {
  /** ACK edition: `ack.pro.small` (SLA-backed control plane) or `ack.standard`. */
  readonly spec: "ack.standard" | "ack.pro.small";
  /** Unset: ACK's default version. */
  readonly kubernetesVersion?: string | undefined;
  /** The API server is private unless this is set. */
  readonly apiEndpointPublic: boolean;
  readonly podCidr: string;
  readonly serviceCidr: string;
  readonly systemPool: NodePoolSettings;
  readonly searchPool: SearchPoolSettings;
}

type Addon = alicloud.types.input.cs.ManagedKubernetesAddon;
type NodePoolArgs = alicloud.cs.NodePoolArgs;

/**
 * Add-ons installed at creation (the provider only honours `addons` on Create):
 *  - flannel: the pod network. Terway would give pods VPC addresses and NetworkPolicy, but needs pod
 *    vSwitches sized for every pod, which the network component does not carve; the config's podCidr is
 *    a Flannel overlay range. Revisit if OpenSearch transport latency or NetworkPolicy matters.
 *  - csi-plugin + csi-provisioner: cloud-disk volumes for OpenSearch data.
 *  - loongcollector: the SLS log collector. ACK renamed it from logtail-ds; the CreateCluster API
 *    reference (aliyun/alibabacloud-*-sdk cs-20151215 CreateClusterRequest "Log component") and ACK's
 *    Terraform add-on table both list `{"name":"loongcollector"}` [V].
 *  - ack-pod-identity-webhook: injects the RRSA token and role into pods of namespaces labelled
 *    pod-identity.alibabacloud.com/injection=on whose service account names a role
 *    (https://www.alibabacloud.com/help/en/container-service-for-kubernetes/latest/ack-pod-identity-webhook); the
 *    orchestrator relies on it. [I: add-on name as the docs name the component; not checked on a cluster]
 * Names per ACK "Manage add-ons with Terraform" [V].
 */
export const CLUSTER_ADDONS: readonly Addon[] = [
  { name: "flannel" },
  { name: "csi-plugin" },
  { name: "csi-provisioner" },
  { name: "loongcollector" },
  { name: "ack-pod-identity-webhook" },
];

export const SEARCH_TAINT = { key: "workload", value: "search", effect: "NoSchedule" } as const;

export const SYSTEM_DISK = { systemDiskCategory: "cloud_essd", systemDiskSize: 120 } as const;

interface PoolPlacement {
  readonly clusterId: NodePoolArgs["clusterId"];
  readonly cloudName: string;
  readonly vswitchIds: NodePoolArgs["vswitchIds"];
  readonly securityGroupId: pulumi.Input<string>;
  readonly tags: Record<string, string>;
}

const common = (p: PoolPlacement, role: "system" | "search", pool: NodePoolSettings): NodePoolArgs => ({
  clusterId: p.clusterId,
  nodePoolName: `${p.cloudName}-${role}`,
  instanceTypes: [...pool.instanceTypes],
  desiredSize: String(pool.desiredSize),
  vswitchIds: p.vswitchIds,
  securityGroupIds: [p.securityGroupId],
  // Spread nodes evenly over the zones of the given vSwitches.
  multiAzPolicy: "BALANCE",
  ...SYSTEM_DISK,
  labels: [{ key: "workload", value: role }],
  // Managed pool: ACK repairs broken nodes; upgrades stay a deliberate change.
  management: { enable: true, autoRepair: true, autoUpgrade: false, maxUnavailable: 1 },
  tags: { ...p.tags, "node-pool": role },
});

export function systemPoolArgs(p: PoolPlacement, settings: ClusterSettings): NodePoolArgs {
  return common(p, "system", settings.systemPool);
}

/**
 * Kernel settings of every search node. OpenSearch memory-maps its index files and its bootstrap
 * checks refuse to start below 262144 maps (the kernel default is 65530). vm.max_map_count is not a
 * namespaced sysctl: a pod could only set it from a privileged container, which the search
 * namespace's PodSecurity `restricted` refuses, so the node sets it at boot.
 */
export const SEARCH_NODE_SYSCTLS = { "vm.max_map_count": 262144 } as const;

/** The search pool's user data (ACK runs it on each new node; base64, as the API takes it). */
export function searchNodeUserData(sysctls: Readonly<Record<string, number>> = SEARCH_NODE_SYSCTLS): string {
  const lines = Object.entries(sysctls).map(([key, value]) => `${key} = ${value}`);
  const script = [
    "#!/bin/bash",
    "set -eu",
    "cat > /etc/sysctl.d/90-search-backbone.conf <<'EOF'",
    ...lines,
    "EOF",
    "sysctl -p /etc/sysctl.d/90-search-backbone.conf",
    "",
  ].join("\n");
  return Buffer.from(script).toString("base64");
}

/**
 * OpenSearch's pool: encrypted ESSD data disks (the policy pack's search-disks-encrypted rule; the
 * provider takes the flag as a string), a taint only search pods tolerate, and its kernel settings.
 */
export function searchPoolArgs(p: PoolPlacement, settings: ClusterSettings): NodePoolArgs {
  const pool = settings.searchPool;
  return {
    ...common(p, "search", pool),
    dataDisks: [
      { category: "cloud_essd", size: pool.diskSizeGb, performanceLevel: pool.diskPerformanceLevel, encrypted: "true" },
    ],
    taints: [{ ...SEARCH_TAINT }],
    userData: searchNodeUserData(),
  };
}
