import * as alicloud from "@pulumi/alicloud";
import * as pulumi from "@pulumi/pulumi";
import { attributed } from "../errors";
import { eipBilling, type VSwitchSpec, vswitchKeys } from "./layout";
import { INGRESS_RULES, ingressRuleArgs, SECURITY_TIERS, type SecurityTier } from "./rules";

export interface NetworkArgs {
  /** Prefix of every cloud name, e.g. "acme-dev". */
  readonly cloudName: string;
  readonly vpcCidr: string;
  /** One vSwitch per entry, in its zone; the first also hosts the NAT gateway. */
  readonly vswitches: readonly VSwitchSpec[];
  readonly nat: { readonly enabled: boolean; readonly bandwidthMbps: number };
  /** Passed through for a public listener to use later; no security group opens to these. */
  readonly publicIngressCidrs: readonly string[];
  readonly tags: Record<string, string>;
}

export type SecurityGroupIds = Record<SecurityTier, string>;

/**
 * A VPC with one vSwitch per zone, optional NAT egress through one EIP, and a security group per
 * tier that admits only the ports the tier serves, only from inside the VPC.
 */
export class Network extends pulumi.ComponentResource {
  public readonly vpcId: pulumi.Output<string>;
  public readonly vpcCidr: pulumi.Output<string>;
  /** In the order of `args.vswitches`. */
  public readonly vswitchIds: pulumi.Output<string[]>;
  public readonly zoneIds: pulumi.Output<string[]>;
  public readonly natGatewayId: pulumi.Output<string | undefined>;
  /** The public address nodes reach the Internet from (allow-list it at DashScope and registries). */
  public readonly egressIp: pulumi.Output<string | undefined>;
  public readonly securityGroupIds: pulumi.Output<SecurityGroupIds>;
  public readonly publicIngressCidrs: pulumi.Output<string[]>;

  constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("backbone:network:Network", name, {}, opts);
    const [first] = args.vswitches;
    if (!first) throw new pulumi.ResourceError(`network ${name}: expected at least one vSwitch`, this);

    const vpc = new alicloud.vpc.Network(
      `${name}-vpc`,
      { vpcName: `${args.cloudName}-vpc`, cidrBlock: args.vpcCidr, tags: args.tags },
      { parent: this },
    );

    const keys = attributed(this, () => vswitchKeys(args.vswitches));
    const vswitches = args.vswitches.map(
      (spec, i) =>
        new alicloud.vpc.Switch(
          `${name}-vsw-${keys[i]}`,
          {
            vswitchName: `${args.cloudName}-${keys[i]}`,
            vpcId: vpc.id,
            zoneId: spec.zone,
            cidrBlock: spec.cidr,
            tags: args.tags,
          },
          { parent: this },
        ),
    );

    const egress = args.nat.enabled ? this.natEgress(name, args, vpc, vswitches, keys) : undefined;
    const securityGroupIds = this.securityGroups(name, args, vpc);

    this.vpcId = vpc.id;
    this.vpcCidr = vpc.cidrBlock;
    this.vswitchIds = pulumi.all(vswitches.map((sw) => sw.id));
    this.zoneIds = pulumi.all(vswitches.map((sw) => sw.zoneId));
    this.natGatewayId = egress ? egress.natGatewayId : pulumi.output(undefined);
    this.egressIp = egress ? egress.egressIp : pulumi.output(undefined);
    this.securityGroupIds = securityGroupIds;
    this.publicIngressCidrs = pulumi.output([...args.publicIngressCidrs]);

    this.registerOutputs({
      vpcId: this.vpcId,
      vpcCidr: this.vpcCidr,
      vswitchIds: this.vswitchIds,
      zoneIds: this.zoneIds,
      natGatewayId: this.natGatewayId,
      egressIp: this.egressIp,
      securityGroupIds: this.securityGroupIds,
      publicIngressCidrs: this.publicIngressCidrs,
    });
  }

  /** Enhanced Internet NAT gateway in the first vSwitch, one EIP, and an SNAT entry per vSwitch. */
  private natEgress(
    name: string,
    args: NetworkArgs,
    vpc: alicloud.vpc.Network,
    vswitches: alicloud.vpc.Switch[],
    keys: string[],
  ): { natGatewayId: pulumi.Output<string>; egressIp: pulumi.Output<string> } {
    const nat = new alicloud.vpc.NatGateway(
      `${name}-nat`,
      {
        natGatewayName: `${args.cloudName}-nat`,
        vpcId: vpc.id,
        vswitchId: vswitches[0]!.id,
        natType: "Enhanced",
        // "internet" is the Internet NAT gateway; "intranet" (VPC NAT) cannot carry an EIP.
        networkType: "internet",
        paymentType: "PayAsYouGo",
        internetChargeType: "PayByLcu",
        tags: args.tags,
      },
      { parent: this },
    );

    const billing = attributed(this, () => eipBilling(args.nat.bandwidthMbps));
    const eip = new alicloud.ecs.EipAddress(
      `${name}-nat-eip`,
      {
        addressName: `${args.cloudName}-nat-eip`,
        paymentType: "PayAsYouGo",
        internetChargeType: billing.internetChargeType,
        bandwidth: billing.bandwidth,
        tags: args.tags,
      },
      { parent: this },
    );

    const association = new alicloud.ecs.EipAssociation(
      `${name}-nat-eip-association`,
      { allocationId: eip.id, instanceId: nat.id, instanceType: "Nat" },
      { parent: this },
    );

    vswitches.forEach((vswitch, i) => {
      new alicloud.vpc.SnatEntry(
        `${name}-snat-${keys[i]}`,
        {
          snatEntryName: `${args.cloudName}-snat-${keys[i]}`,
          snatTableId: nat.snatTableIds,
          snatIp: eip.ipAddress,
          sourceCidr: vswitch.cidrBlock,
        },
        // The EIP must be bound to the gateway before an SNAT entry may use it.
        { parent: this, dependsOn: [association] },
      );
    });

    return { natGatewayId: nat.id, egressIp: eip.ipAddress };
  }

  private securityGroups(name: string, args: NetworkArgs, vpc: alicloud.vpc.Network): pulumi.Output<SecurityGroupIds> {
    const ids = SECURITY_TIERS.map((tier) => {
      const group = new alicloud.ecs.SecurityGroup(
        `${name}-sg-${tier}`,
        {
          securityGroupName: `${args.cloudName}-${tier}`,
          description: `${tier} tier of ${args.cloudName}`,
          vpcId: vpc.id,
          securityGroupType: "normal",
          // Members reach each other only through explicit rules (see rules.ts).
          innerAccessPolicy: "Drop",
          tags: args.tags,
        },
        { parent: this },
      );
      for (const rule of INGRESS_RULES[tier]) {
        new alicloud.ecs.SecurityGroupRule(
          `${name}-sg-${tier}-${rule.key}`,
          ingressRuleArgs(rule, { securityGroupId: group.id, vpcCidr: args.vpcCidr }),
          { parent: this },
        );
      }
      return group.id.apply((id) => [tier, id] as const);
    });
    return pulumi.all(ids).apply((pairs) => Object.fromEntries(pairs) as SecurityGroupIds);
  }
}
