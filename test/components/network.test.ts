import { beforeAll, describe, expect, it } from "vitest";
import {
  admits,
  EIP_MAX_MBPS,
  eipBilling,
  INGRESS_RULES,
  ingressRuleArgs,
  Network,
  type NetworkArgs,
  portRange,
  SECURITY_TIERS,
  TORCHSERVE_PORTS,
  vswitchKeys,
} from "../../components/network";
import { standardTags } from "../../stacks/tags";
import { devConfig } from "../helpers/config";
import { type MockRecorder, type RecordedResource, resolved, settle, setupMocks } from "../helpers/mocks";

const T = {
  vpc: "alicloud:vpc/network:Network",
  vswitch: "alicloud:vpc/switch:Switch",
  nat: "alicloud:vpc/natGateway:NatGateway",
  eip: "alicloud:ecs/eipAddress:EipAddress",
  eipAssociation: "alicloud:ecs/eipAssociation:EipAssociation",
  snat: "alicloud:vpc/snatEntry:SnatEntry",
  sg: "alicloud:ecs/securityGroup:SecurityGroup",
  sgRule: "alicloud:ecs/securityGroupRule:SecurityGroupRule",
};
const TAGGABLE = [T.vpc, T.vswitch, T.nat, T.eip, T.sg];
const SNAT_TABLE = "stb-test";
const EGRESS_IP = "47.96.0.10";

function argsFromConfig(): NetworkArgs {
  const cfg = devConfig((raw) => {
    raw.network.publicIngressCidrs = ["203.0.113.0/24"];
  });
  return {
    cloudName: "acme-dev",
    vpcCidr: cfg.network.vpcCidr,
    vswitches: cfg.network.vswitches,
    nat: cfg.network.nat,
    publicIngressCidrs: cfg.network.publicIngressCidrs,
    tags: standardTags(cfg, { project: "search-backbone", stack: "dev" }),
  };
}

describe("Network under mocks", () => {
  const args = argsFromConfig();
  let mocks: MockRecorder;
  let network: Network;
  let urn: string;
  let children: RecordedResource[];
  const ofType = (type: string) => children.filter((r) => r.type === type);

  beforeAll(async () => {
    mocks = await setupMocks({
      outputs: {
        [T.nat]: () => ({ snatTableIds: SNAT_TABLE, forwardTableIds: "ftb-test" }),
        [T.eip]: () => ({ ipAddress: EGRESS_IP }),
      },
    });
    network = new Network("dev-network", args);
    urn = await resolved(network.urn);
    await settle();
    children = mocks.resources.filter((r) => r.name.startsWith("dev-network-"));
  });

  it("registers as a backbone:network:Network and parents every child to it", () => {
    expect(mocks.one("backbone:network:Network").urn).toBe(urn);
    expect(children.length).toBeGreaterThan(0);
    for (const child of children) expect(child.parent, child.name).toBe(urn);
  });

  it("creates a VPC with the given CIDR and cloud name", () => {
    const [vpc] = ofType(T.vpc);
    expect(ofType(T.vpc)).toHaveLength(1);
    expect(vpc?.inputs).toMatchObject({ vpcName: "acme-dev-vpc", cidrBlock: "10.20.0.0/16" });
  });

  it("creates one vSwitch per entry, in distinct zones, with the given CIDRs", async () => {
    const vswitches = ofType(T.vswitch);
    expect(vswitches.map((sw) => [sw.inputs.zoneId, sw.inputs.cidrBlock])).toEqual(
      args.vswitches.map((sw) => [sw.zone, sw.cidr]),
    );
    expect(new Set(vswitches.map((sw) => sw.inputs.zoneId)).size).toBe(vswitches.length);
    const vpcId = await resolved(network.vpcId);
    for (const sw of vswitches) expect(sw.inputs.vpcId).toBe(vpcId);
  });

  it("egresses through an enhanced Internet NAT gateway in the first vSwitch", async () => {
    const nat = mocks.one(T.nat, "dev-network-nat");
    const [firstVswitch] = await resolved(network.vswitchIds);
    expect(nat.inputs).toMatchObject({
      natType: "Enhanced",
      networkType: "internet",
      vswitchId: firstVswitch,
      vpcId: await resolved(network.vpcId),
    });
  });

  it("binds one EIP with the configured bandwidth to the NAT gateway", async () => {
    const eip = mocks.one(T.eip, "dev-network-nat-eip");
    expect(eip.inputs).toMatchObject({ bandwidth: String(args.nat.bandwidthMbps), internetChargeType: "PayByTraffic" });
    const association = mocks.one(T.eipAssociation, "dev-network-nat-eip-association");
    expect(association.inputs).toMatchObject({ instanceType: "Nat", instanceId: await resolved(network.natGatewayId) });
    expect(association.inputs.allocationId).toMatch(/^dev-network-nat-eip-id-/);
  });

  it("adds an SNAT entry for each vSwitch CIDR, after the EIP is bound", () => {
    const entries = ofType(T.snat);
    expect(entries.map((e) => e.inputs.sourceCidr).sort()).toEqual(args.vswitches.map((sw) => sw.cidr).sort());
    const association = mocks.one(T.eipAssociation, "dev-network-nat-eip-association");
    for (const entry of entries) {
      expect(entry.inputs).toMatchObject({ snatTableId: SNAT_TABLE, snatIp: EGRESS_IP });
      expect(entry.dependencies).toContain(association.urn);
    }
  });

  it("creates a normal, internally isolated security group per tier", async () => {
    const groups = ofType(T.sg);
    expect(groups.map((g) => g.inputs.securityGroupName).sort()).toEqual(
      SECURITY_TIERS.map((tier) => `acme-dev-${tier}`).sort(),
    );
    const vpcId = await resolved(network.vpcId);
    for (const group of groups) {
      expect(group.inputs).toMatchObject({ securityGroupType: "normal", innerAccessPolicy: "Drop", vpcId });
    }
  });

  it("admits traffic only from the VPC CIDR or the group itself, never from anywhere else", async () => {
    const rules = ofType(T.sgRule);
    const groupIds = Object.values(await resolved(network.securityGroupIds));
    expect(rules.length).toBeGreaterThan(0);
    for (const rule of rules) {
      expect(rule.inputs.type, rule.name).toBe("ingress");
      expect(groupIds).toContain(rule.inputs.securityGroupId);
      if (rule.inputs.cidrIp !== undefined) {
        expect(rule.inputs.cidrIp, rule.name).toBe(args.vpcCidr);
      } else {
        expect(rule.inputs.sourceSecurityGroupId, rule.name).toBe(rule.inputs.securityGroupId);
      }
      expect(JSON.stringify(rule.inputs)).not.toContain("0.0.0.0/0");
      for (const cidr of args.publicIngressCidrs) expect(JSON.stringify(rule.inputs)).not.toContain(cidr);
    }
  });

  it("keeps TorchServe management (8081) closed and opens inference and metrics on the gpu group", async () => {
    const gpuId = (await resolved(network.securityGroupIds)).gpu;
    const gpuRules = ofType(T.sgRule).filter((r) => r.inputs.securityGroupId === gpuId);
    expect(gpuRules.map((r) => r.inputs.portRange).sort()).toEqual(["8080/8080", "8082/8082"]);
    for (const rule of ofType(T.sgRule)) {
      const [from, to] = String(rule.inputs.portRange).split("/").map(Number);
      const coversManagement = rule.inputs.portRange === "-1/-1" || (from! <= 8081 && 8081 <= to!);
      // Only the cluster's same-group rule spans every port, and it admits no address range.
      if (coversManagement) expect(rule.inputs.cidrIp, rule.name).toBeUndefined();
    }
  });

  it("tags every taggable resource", () => {
    const taggable = children.filter((r) => TAGGABLE.includes(r.type));
    expect(taggable).toHaveLength(1 + args.vswitches.length + 2 + SECURITY_TIERS.length);
    for (const resource of taggable) expect(resource.inputs.tags, resource.name).toEqual(args.tags);
  });

  it("outputs ids in input order, the egress IP and the public ingress CIDRs untouched", async () => {
    const vswitches = ofType(T.vswitch);
    expect(await resolved(network.zoneIds)).toEqual(args.vswitches.map((sw) => sw.zone));
    expect(await resolved(network.vswitchIds)).toEqual(vswitches.map((sw) => expect.stringMatching(`^${sw.name}-id-`)));
    expect(await resolved(network.egressIp)).toBe(EGRESS_IP);
    expect(await resolved(network.vpcCidr)).toBe(args.vpcCidr);
    expect(await resolved(network.publicIngressCidrs)).toEqual(["203.0.113.0/24"]);
    expect(Object.keys(await resolved(network.securityGroupIds)).sort()).toEqual([...SECURITY_TIERS].sort());
  });

  it("creates no NAT, EIP or SNAT when NAT is disabled", async () => {
    const bare = new Network("bare-network", { ...args, nat: { enabled: false, bandwidthMbps: 10 } });
    await settle();
    const bareChildren = mocks.resources.filter((r) => r.name.startsWith("bare-network-"));
    expect(bareChildren.filter((r) => [T.nat, T.eip, T.eipAssociation, T.snat].includes(r.type))).toEqual([]);
    expect(await resolved(bare.natGatewayId)).toBeUndefined();
    expect(await resolved(bare.egressIp)).toBeUndefined();
  });

  it("refuses an empty vSwitch list", () => {
    expect(() => new Network("empty-network", { ...args, vswitches: [] })).toThrow(/at least one vSwitch/);
  });
});

describe("security group rule table", () => {
  const allRules = SECURITY_TIERS.flatMap((tier) => INGRESS_RULES[tier]);

  it("never lets TorchServe management in", () => {
    for (const rule of allRules.filter((r) => r.source === "vpc")) {
      expect(admits(rule, "tcp", TORCHSERVE_PORTS.management), rule.key).toBe(false);
    }
    expect(INGRESS_RULES.gpu.some((r) => admits(r, "tcp", TORCHSERVE_PORTS.management))).toBe(false);
  });

  it("opens exactly the ports each tier serves", () => {
    const open = (tier: (typeof SECURITY_TIERS)[number]) =>
      INGRESS_RULES[tier].filter((r) => r.source === "vpc").map((r) => portRange(r));
    expect(open("gpu")).toEqual(["8080/8080", "8082/8082"]);
    expect(open("cluster")).toEqual(["30000/32767", "10250/10250"]);
    expect(open("search")).toEqual(["9200/9200", "9300/9300"]);
  });

  it("keeps all-port rules to traffic from the same group", () => {
    for (const rule of allRules.filter((r) => r.ports === "all")) {
      expect(rule.source, rule.key).toBe("same-group");
      expect(rule.protocol).toBe("all");
    }
    expect(INGRESS_RULES.cluster.filter((r) => r.source === "same-group")).toHaveLength(1);
    expect(INGRESS_RULES.gpu.concat(INGRESS_RULES.search).every((r) => r.source === "vpc")).toBe(true);
  });

  it("has unique keys within each tier", () => {
    for (const tier of SECURITY_TIERS) {
      const keys = INGRESS_RULES[tier].map((r) => r.key);
      expect(new Set(keys).size, tier).toBe(keys.length);
    }
  });

  it("maps a VPC rule to cidrIp and a same-group rule to the group itself", () => {
    const target = { securityGroupId: "sg-1", vpcCidr: "10.20.0.0/16" };
    const intraGroup = INGRESS_RULES.cluster.find((r) => r.source === "same-group")!;
    expect(ingressRuleArgs(INGRESS_RULES.gpu[0]!, target)).toEqual({
      securityGroupId: "sg-1",
      type: "ingress",
      policy: "accept",
      ipProtocol: "tcp",
      portRange: "8080/8080",
      nicType: "intranet",
      priority: 1,
      description: "TorchServe inference API",
      cidrIp: "10.20.0.0/16",
    });
    const sameGroup = ingressRuleArgs(intraGroup, target);
    expect(sameGroup).toMatchObject({ ipProtocol: "all", portRange: "-1/-1", sourceSecurityGroupId: "sg-1" });
    expect(sameGroup).not.toHaveProperty("cidrIp");
  });

  it("reads port ranges and protocols correctly", () => {
    const nodeports = INGRESS_RULES.cluster.find((r) => r.key === "nodeports")!;
    expect(admits(nodeports, "tcp", 30000)).toBe(true);
    expect(admits(nodeports, "tcp", 32767)).toBe(true);
    expect(admits(nodeports, "tcp", 32768)).toBe(false);
    expect(admits(nodeports, "udp", 30000)).toBe(false);
  });
});

describe("network layout", () => {
  it("keys vSwitches by zone, numbering repeats", () => {
    expect(
      vswitchKeys([
        { zone: "cn-hangzhou-h", cidr: "10.0.0.0/20" },
        { zone: "cn-hangzhou-i", cidr: "10.0.16.0/20" },
        { zone: "cn-hangzhou-h", cidr: "10.0.32.0/20" },
      ]),
    ).toEqual(["cn-hangzhou-h", "cn-hangzhou-i", "cn-hangzhou-h-2"]);
  });

  it("bills the EIP by traffic up to 200 Mbit/s and by bandwidth above", () => {
    expect(eipBilling(10)).toEqual({ internetChargeType: "PayByTraffic", bandwidth: "10" });
    expect(eipBilling(EIP_MAX_MBPS.PayByTraffic).internetChargeType).toBe("PayByTraffic");
    expect(eipBilling(201)).toEqual({ internetChargeType: "PayByBandwidth", bandwidth: "201" });
  });

  it("rejects bandwidths a pay-as-you-go EIP cannot have", () => {
    for (const mbps of [0, 501, 1000, 2.5]) expect(() => eipBilling(mbps), String(mbps)).toThrow(/1 to 500/);
  });
});
