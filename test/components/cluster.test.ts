import * as pulumi from "@pulumi/pulumi";
import { beforeEach, describe, expect, it } from "vitest";
import { Cluster, type ClusterArgs, searchNodeUserData } from "../../components/cluster";
import type { BackboneConfig } from "../../stacks/config";
import { devConfig, prodConfig } from "../helpers/config";
import { type MockRecorder, resolved, settle, setupMocks, TEST_ACCOUNT_ID } from "../helpers/mocks";

const ACK = "alicloud:cs/managedKubernetes:ManagedKubernetes";
const POOL = "alicloud:cs/nodePool:NodePool";
const CREDENTIAL = "alicloud:cs/getClusterCredential:getClusterCredential";
const KUBECONFIG =
  "apiVersion: v1\nkind: Config\nclusters: [{name: ack, cluster: {server: 'https://10.20.0.5:6443'}}]\n";

let mocks: MockRecorder;
beforeEach(async () => {
  mocks = await setupMocks({
    invokes: {
      [CREDENTIAL]: (inputs) => ({ clusterId: inputs.clusterId, kubeConfig: KUBECONFIG, id: inputs.clusterId }),
    },
    outputs: {
      [ACK]: (a) => ({
        rrsaMetadata: {
          enabled: true,
          ramOidcProviderArn: `acs:ram::${TEST_ACCOUNT_ID}:oidc-provider/ack-rrsa-${a.name}`,
          rrsaOidcIssuerUrl: `https://oidc-ack-cn-hangzhou.oss-cn-hangzhou.aliyuncs.com/${a.name}`,
        },
      }),
    },
  });
});

function cluster(name: string, config: BackboneConfig, protect = config.environment === "prod"): Cluster {
  const args: ClusterArgs = {
    cloudName: `acme-${config.environment}`,
    settings: config.cluster,
    vswitchIds: [pulumi.output("vsw-a"), "vsw-b"],
    securityGroupId: pulumi.output("sg-cluster"),
    tags: { stack: config.environment },
    protect,
  };
  return new Cluster(name, args);
}

async function built(name: string, config: BackboneConfig): Promise<Cluster> {
  const c = cluster(name, config);
  await resolved(c.clusterId);
  await resolved(c.kubeconfig);
  await settle();
  return c;
}

describe("Cluster (dev)", () => {
  it("creates a managed cluster with RRSA, a private API server and the storage and logging add-ons", async () => {
    const config = devConfig();
    await built("dev", config);
    const ack = mocks.one(ACK);
    expect(ack.inputs).toMatchObject({
      name: "acme-dev-ack",
      clusterSpec: config.cluster.spec,
      enableRrsa: true,
      slbInternetEnabled: false,
      newNatGateway: false,
      podCidr: config.cluster.podCidr,
      serviceCidr: config.cluster.serviceCidr,
      vswitchIds: ["vsw-a", "vsw-b"],
      securityGroupId: "sg-cluster",
      deletionProtection: false,
    });
    expect(ack.inputs.addons.map((a: { name: string }) => a.name).sort()).toEqual(
      ["ack-pod-identity-webhook", "csi-plugin", "csi-provisioner", "flannel", "loongcollector"].sort(),
    );
    expect(ack.protect).toBe(false);
    expect(ack.parent).toBe(mocks.one("backbone:cluster:Cluster").urn);
  });

  it("creates a system pool and a tainted search pool on ESSD data disks, in the given vSwitches and group", async () => {
    const config = devConfig();
    await built("pools", config);
    const system = mocks.one(POOL, "-system");
    const search = mocks.one(POOL, "-search");

    for (const [pool, settings] of [
      [system, config.cluster.systemPool],
      [search, config.cluster.searchPool],
    ] as const) {
      expect(pool.inputs).toMatchObject({
        instanceTypes: settings.instanceTypes,
        desiredSize: String(settings.desiredSize),
        vswitchIds: ["vsw-a", "vsw-b"],
        securityGroupIds: ["sg-cluster"],
        clusterId: expect.stringMatching(/^pools-ack-id-/),
      });
    }
    expect(system.inputs.taints).toBeUndefined();
    expect(system.inputs.dataDisks).toBeUndefined();
    expect(search.inputs.dataDisks).toEqual([
      {
        category: "cloud_essd",
        size: config.cluster.searchPool.diskSizeGb,
        performanceLevel: config.cluster.searchPool.diskPerformanceLevel,
        encrypted: "true",
      },
    ]);
    expect(search.inputs.taints).toEqual([{ key: "workload", value: "search", effect: "NoSchedule" }]);
    expect(search.inputs.labels).toContainEqual({ key: "workload", value: "search" });
    expect(system.inputs.userData).toBeUndefined();
    expect(search.inputs.userData).toBe(searchNodeUserData());
  });

  it("sets the search nodes' vm.max_map_count at boot, as OpenSearch needs", () => {
    const script = Buffer.from(searchNodeUserData(), "base64").toString("utf8");
    expect(script.startsWith("#!/bin/bash\nset -eu\n")).toBe(true);
    expect(script).toContain("\nvm.max_map_count = 262144\n");
    expect(script).toMatch(/\nsysctl -p \/etc\/sysctl\.d\/90-search-backbone\.conf\n$/);
    const two = Buffer.from(searchNodeUserData({ "a.b": 1, "c.d": 2 }), "base64").toString("utf8");
    expect(two).toContain("\na.b = 1\nc.d = 2\nEOF\n");
  });

  it("builds a Kubernetes provider from the credential data source and keeps the kubeconfig secret", async () => {
    const c = await built("k8s", devConfig());
    const clusterId = await resolved(c.clusterId);

    expect(mocks.invokes.filter((i) => i.token === CREDENTIAL).map((i) => i.inputs.clusterId)).toContain(clusterId);
    expect(await resolved(c.kubeconfig)).toBe(KUBECONFIG);
    expect(await (c.kubeconfig as any).isSecret).toBe(true);

    const provider = mocks.one("pulumi:providers:kubernetes");
    expect(provider.parent).toBe(mocks.one("backbone:cluster:Cluster").urn);
    expect(provider.inputs.clusterIdentifier).toBe(clusterId);
    // The provider receives the kubeconfig wrapped in Pulumi's secret envelope, so state encrypts it.
    expect(provider.inputs.kubeconfig).toEqual({
      [pulumi.runtime.specialSigKey]: pulumi.runtime.specialSecretSig,
      value: KUBECONFIG,
    });
    expect(pulumi.ProviderResource.isInstance(c.provider)).toBe(true);
  });

  it("exports the RRSA metadata for trust policies, and the node pool ids", async () => {
    const c = await built("meta", devConfig());
    expect(await resolved(c.rrsaOidcProviderArn)).toBe(`acs:ram::${TEST_ACCOUNT_ID}:oidc-provider/ack-rrsa-meta-ack`);
    expect(await resolved(c.rrsaIssuerUrl)).toMatch(/^https:\/\/oidc-ack-/);
    expect(await resolved(c.nodePoolIds.system)).toMatch(/^meta-system-id-/);
    expect(await resolved(c.nodePoolIds.search)).toMatch(/^meta-search-id-/);
  });

  it("opens the API server to the Internet only when the stack asks", async () => {
    const config = devConfig((raw) => {
      raw.cluster = { apiEndpointPublic: true };
    });
    await built("public", config);
    expect(mocks.one(ACK).inputs.slbInternetEnabled).toBe(true);
  });
});

describe("Cluster (prod)", () => {
  it("protects the cluster and its node pools and turns on deletion protection", async () => {
    await built("prod", prodConfig());
    const ack = mocks.one(ACK);
    expect(ack.protect).toBe(true);
    expect(ack.inputs.deletionProtection).toBe(true);
    expect(ack.inputs.deleteOptions).toBeUndefined();
    expect(ack.inputs.slbInternetEnabled).toBe(false);
    for (const pool of mocks.ofType(POOL)) expect(pool.protect).toBe(true);
    expect(mocks.one(POOL, "-search").inputs.dataDisks[0]).toMatchObject({ size: 500, performanceLevel: "PL1" });
  });
});
