import { cidrWithin, exposureChanges, listenRank, TYPE } from "search-backbone-policy/exposure";
import { describe, expect, it } from "vitest";
import { assess, HARMLESS_FIELDS } from "../../scripts/preview-gate/classify.ts";
import { runGate } from "../../scripts/preview-gate/gate.ts";
import { renderMarkdown } from "../../scripts/preview-gate/markdown.ts";

const VPC = { vpcCidrs: ["10.20.0.0/16"] };
const rules = (type: string, olds: unknown, news: unknown) =>
  exposureChanges(type, olds, news, VPC).map((e) => [e.rule, e.property, e.old, e.new]);

describe("exposure rules: each update that widens exposure is named with its old and new value", () => {
  it.each<[string, string, Record<string, unknown>, Record<string, unknown>, unknown[]]>([
    [
      "a bucket made public-read",
      TYPE.bucket,
      { acl: "private" },
      { acl: "public-read" },
      ["oss-public-acl", "acl", '"private"', '"public-read"'],
    ],
    [
      "a bucket ACL made public-read-write",
      TYPE.bucketAcl,
      { acl: "public-read" },
      { acl: "public-read-write" },
      ["oss-public-acl", "acl", '"public-read"', '"public-read-write"'],
    ],
    [
      "the public access block switched off",
      TYPE.bucketPublicAccessBlock,
      { blockPublicAccess: true },
      { blockPublicAccess: false },
      ["oss-public-access-block", "blockPublicAccess", "true", "false"],
    ],
    [
      "ingress opened to the Internet",
      TYPE.securityGroupRule,
      { type: "ingress", policy: "accept", cidrIp: "10.20.0.0/16", portRange: "443/443" },
      { type: "ingress", policy: "accept", cidrIp: "0.0.0.0/0", portRange: "443/443" },
      ["ingress-wider-than-vpc", "cidrIp", '"10.20.0.0/16"', '"0.0.0.0/0"'],
    ],
    [
      "ingress widened to a whole private /8 beyond the VPC",
      TYPE.securityGroupRule,
      { type: "ingress", cidrIp: "10.20.0.0/16" },
      { type: "ingress", cidrIp: "10.0.0.0/8" },
      ["ingress-wider-than-vpc", "cidrIp", '"10.20.0.0/16"', '"10.0.0.0/8"'],
    ],
    [
      "IPv6 ingress from anywhere",
      TYPE.securityGroupRule,
      { type: "ingress" },
      { type: "ingress", ipv6CidrIp: "::/0" },
      ["ingress-wider-than-vpc", "ipv6CidrIp", "null", '"::/0"'],
    ],
    [
      "a drop rule turned into an accept",
      TYPE.securityGroupRule,
      { type: "ingress", policy: "drop", cidrIp: "0.0.0.0/0" },
      { type: "ingress", policy: "accept", cidrIp: "0.0.0.0/0" },
      ["ingress-wider-than-vpc", "cidrIp", '"0.0.0.0/0"', '"0.0.0.0/0"'],
    ],
    [
      "Elasticsearch's public endpoint on",
      TYPE.elasticsearch,
      { enablePublic: false },
      { enablePublic: true },
      ["search-public-endpoint", "enablePublic", "false", "true"],
    ],
    [
      "Kibana's public endpoint on",
      TYPE.elasticsearch,
      {},
      { enableKibanaPublicNetwork: true },
      ["search-public-endpoint", "enableKibanaPublicNetwork", "unset", "true"],
    ],
    [
      "a public whitelist widened",
      TYPE.elasticsearch,
      { publicWhitelists: ["203.0.113.0/24"] },
      { publicWhitelists: ["203.0.113.0/24", "0.0.0.0/0"] },
      ["search-whitelist-widened", "publicWhitelists", '["203.0.113.0/24"]', '["203.0.113.0/24","0.0.0.0/0"]'],
    ],
    [
      "a private whitelist opened beyond the VPC",
      TYPE.elasticsearch,
      { privateWhitelists: ["10.20.0.0/16"] },
      { privateWhitelists: ["0.0.0.0/0"] },
      ["search-whitelist-widened", "privateWhitelists", '["10.20.0.0/16"]', '["0.0.0.0/0"]'],
    ],
    [
      "the cluster's API server made public",
      TYPE.cluster,
      { slbInternetEnabled: false },
      { slbInternetEnabled: true },
      ["cluster-public-api", "slbInternetEnabled", "false", "true"],
    ],
    [
      "a registry repository made public",
      TYPE.enterpriseRepo,
      { repoType: "PRIVATE" },
      { repoType: "PUBLIC" },
      ["registry-public", "repoType", '"PRIVATE"', '"PUBLIC"'],
    ],
    [
      "a registry namespace made public",
      TYPE.enterpriseNamespace,
      { defaultVisibility: "PRIVATE" },
      { defaultVisibility: "PUBLIC" },
      ["registry-public", "defaultVisibility", '"PRIVATE"', '"PUBLIC"'],
    ],
    [
      "the registry's Internet endpoint on",
      TYPE.registryAclService,
      { enable: false, endpointType: "internet" },
      { enable: true, endpointType: "internet" },
      ["registry-public", "enable", "false", "true"],
    ],
    [
      "the registry's Internet ACL opened",
      TYPE.registryAclPolicy,
      { entry: "10.20.0.0/16" },
      { entry: "0.0.0.0/0" },
      ["registry-public", "entry", '"10.20.0.0/16"', '"0.0.0.0/0"'],
    ],
    [
      "TorchServe's load balancer made Internet-facing",
      TYPE.nlb,
      { addressType: "Intranet" },
      { addressType: "Internet" },
      ["load-balancer-public", "addressType", '"Intranet"', '"Internet"'],
    ],
    [
      "a DNAT entry added",
      TYPE.forwardEntry,
      { externalIp: "47.1.1.1", externalPort: "22", internalIp: "10.20.1.5", internalPort: "22" },
      { externalIp: "47.1.1.1", externalPort: "443", internalIp: "10.20.1.5", internalPort: "443" },
      ["nat-eip-exposure", "externalIp:externalPort", '"47.1.1.1:22"', '"47.1.1.1:443"'],
    ],
    [
      "the EIP moved from the NAT gateway to a host",
      TYPE.eipAssociation,
      { instanceType: "Nat", instanceId: "ngw-1" },
      { instanceType: "EcsInstance", instanceId: "i-1" },
      ["nat-eip-exposure", "instanceType", '"Nat"', '"EcsInstance"'],
    ],
    [
      "a host given a public IP",
      TYPE.ecsInstance,
      { internetMaxBandwidthOut: 0 },
      { internetMaxBandwidthOut: 5 },
      ["nat-eip-exposure", "internetMaxBandwidthOut", "0", "5"],
    ],
    [
      "a RAM policy allowing * on *",
      TYPE.ramPolicy,
      {
        policyDocument: JSON.stringify({
          Statement: [{ Effect: "Allow", Action: ["oss:GetObject"], Resource: ["acs:oss:*:*:b/raw/*"] }],
        }),
      },
      { policyDocument: JSON.stringify({ Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] }) },
      ["ram-wildcard", "policyDocument (actions)", "[]", '["\\"*\\""]'],
    ],
    [
      "a *FullAccess attachment",
      TYPE.rolePolicyAttachment,
      { policyName: "my-scoped", policyType: "Custom" },
      { policyName: "AliyunOSSFullAccess", policyType: "System" },
      ["ram-full-access", "policyName", '"my-scoped"', '"AliyunOSSFullAccess"'],
    ],
    [
      "TorchServe's management API on every interface",
      TYPE.ecsInstance,
      { userData: "management_address=http://127.0.0.1:8081\ninference_address=http://PRIVATE_IP:8080" },
      { userData: "management_address=http://0.0.0.0:8081\ninference_address=http://PRIVATE_IP:8080" },
      ["model-listen-public", "userData: management_address", '"http://127.0.0.1:8081"', '"http://0.0.0.0:8081"'],
    ],
    [
      "EAS's Internet endpoint enabled",
      TYPE.easService,
      { serviceConfig: JSON.stringify({ networking: { disable_internet_endpoint: true } }) },
      { serviceConfig: JSON.stringify({ networking: {} }) },
      ["model-listen-public", "serviceConfig.networking.disable_internet_endpoint", "true", "unset"],
    ],
  ])("%s", (_, type, olds, news, expected) => {
    const found = rules(type, olds, news);
    expect(found).toContainEqual(expected);
    for (const e of exposureChanges(type, olds, news, VPC)) expect(e.why.length).toBeGreaterThan(10);
  });

  it.each<[string, string, Record<string, unknown>, Record<string, unknown>]>([
    ["a bucket made private", TYPE.bucket, { acl: "public-read" }, { acl: "private" }],
    [
      "ingress narrowed inside the VPC",
      TYPE.securityGroupRule,
      { type: "ingress", cidrIp: "10.20.0.0/16" },
      { type: "ingress", cidrIp: "10.20.1.0/24" },
    ],
    [
      "an unchanged open rule (already reviewed)",
      TYPE.securityGroupRule,
      { type: "ingress", cidrIp: "0.0.0.0/0", portRange: "443/443" },
      { type: "ingress", cidrIp: "0.0.0.0/0", portRange: "443/443", description: "x" },
    ],
    [
      "a private whitelist gaining a VPC range",
      TYPE.elasticsearch,
      { privateWhitelists: ["10.20.0.0/24"] },
      { privateWhitelists: ["10.20.0.0/24", "10.20.1.0/24"] },
    ],
    [
      "TorchServe's hosts as this repository renders them",
      TYPE.ecsInstance,
      {},
      {
        userData:
          "inference_address=http://PRIVATE_IP:8080\nmanagement_address=http://127.0.0.1:8081\nmetrics_address=http://PRIVATE_IP:8082\ngrpc_inference_address=127.0.0.1",
        internetMaxBandwidthOut: 0,
      },
    ],
    ["the NAT gateway's own EIP", TYPE.eipAssociation, {}, { instanceType: "Nat", instanceId: "ngw-1" }],
    [
      "a scoped policy gaining a scoped statement",
      TYPE.ramPolicy,
      { policyDocument: JSON.stringify({ Statement: [] }) },
      {
        policyDocument: JSON.stringify({
          Statement: [{ Effect: "Allow", Action: ["oss:GetObject"], Resource: ["acs:oss:*:*:b/raw/*"] }],
        }),
      },
    ],
    [
      "a Deny with wildcards",
      TYPE.ramPolicy,
      {},
      { policyDocument: JSON.stringify({ Statement: [{ Effect: "Deny", Action: "*", Resource: "*" }] }) },
    ],
    ["a custom attachment", TYPE.rolePolicyAttachment, {}, { policyName: "sb-dev-serving", policyType: "Custom" }],
  ])("does not flag %s", (_, type, olds, news) => {
    expect(exposureChanges(type, olds, news, VPC)).toEqual([]);
  });

  it("flags a create that is born exposed, and an unreadable new policy document", () => {
    expect(rules(TYPE.bucket, undefined, { acl: "public-read" })).toEqual([
      ["oss-public-acl", "acl", "unset", '"public-read"'],
    ]);
    expect(rules(TYPE.ramPolicy, { policyDocument: "{}" }, { policyDocument: "{not json" })[0]?.[0]).toBe(
      "ram-wildcard",
    );
  });

  it("reads CIDRs and listen addresses strictly", () => {
    expect(cidrWithin("10.20.3.0/24", ["10.20.0.0/16"])).toBe(true);
    expect(cidrWithin("10.21.0.0/24", ["10.20.0.0/16"])).toBe(false);
    expect(cidrWithin("10.20.0.0/15", ["10.20.0.0/16"])).toBe(false);
    expect(cidrWithin("not a cidr", ["0.0.0.0/0"])).toBe(false);
    expect([listenRank("http://127.0.0.1:8081"), listenRank("http://PRIVATE_IP:8080"), listenRank("0.0.0.0")]).toEqual([
      0, 1, 2,
    ]);
    expect(listenRank("http://47.96.1.1:8080")).toBe(2);
  });
});

const urn = (type: string, name: string) => `urn:pulumi:prod::search-backbone::${type}::${name}`;
const bucketUpdate = (
  olds: Record<string, unknown>,
  news: Record<string, unknown>,
  detailedDiff: Record<string, unknown>,
) => ({
  op: "update",
  urn: urn(TYPE.bucket, "docs"),
  oldState: { type: TYPE.bucket, inputs: olds, protect: true },
  newState: { type: TYPE.bucket, inputs: news, protect: true },
  detailedDiff,
});
const tags = { project: "p", environment: "prod", owner: "a" };

describe("updates of protected resources", () => {
  it(`lists the harmless fields: ${HARMLESS_FIELDS.join(", ")}`, () => {
    expect(HARMLESS_FIELDS).toEqual(["tags", "description"]);
  });

  it("does not block a tags-only or description-only update, and notes it", () => {
    const step = bucketUpdate(
      { tags, acl: "private" },
      { tags: { ...tags, team: "search" }, acl: "private" },
      { "tags.team": { kind: "add" } },
    );
    const a = assess(step as any);
    expect(a.dangers).toEqual([]);
    expect(a.notes).toEqual(["updates only harmless fields of a protected resource (tags.team)"]);
    const described = assess(
      bucketUpdate({ description: "a" }, { description: "b" }, { description: { kind: "update" } }) as any,
    );
    expect(described.dangers).toEqual([]);
  });

  it("blocks an update that changes a lifecycle tag, any other field, or nothing it can name", () => {
    const env = bucketUpdate(
      { tags },
      { tags: { ...tags, environment: "ephemeral" } },
      { "tags.environment": { kind: "update" } },
    );
    expect(assess(env as any).dangers).toEqual(["updates a protected resource"]);
    const mixed = bucketUpdate(
      { tags, versioning: "Enabled" },
      { tags: { ...tags, team: "x" }, versioning: "Suspended" },
      { "tags.team": { kind: "add" }, versioning: { kind: "update" } },
    );
    expect(assess(mixed as any).dangers).toEqual(["updates a protected resource"]);
    const unnamed = { ...bucketUpdate({}, {}, {}), detailedDiff: null, oldState: { type: TYPE.bucket, protect: true } };
    expect(assess(unnamed as any).dangers).toEqual(["updates a protected resource"]);
  });

  it("blocks a description-only update that also makes the bucket public, through the exposure rule", () => {
    const step = bucketUpdate(
      { acl: "private", description: "a" },
      { acl: "public-read", description: "b" },
      { description: { kind: "update" } },
    );
    const a = assess(step as any);
    expect(a.dangers).toEqual([]);
    expect(a.exposures.map((e) => e.rule)).toEqual(["oss-public-acl"]);
    const result = runGate(JSON.stringify({ steps: [step] }), { stack: "prod" });
    expect(result.blocked).toBe(true);
  });
});

describe("the PR comment", () => {
  it("shows exposure changes in their own section, ahead of the change table and the cost", () => {
    const steps = [
      {
        op: "update",
        urn: urn(TYPE.securityGroupRule, "web"),
        oldState: {
          type: TYPE.securityGroupRule,
          inputs: { type: "ingress", cidrIp: "10.20.0.0/16", portRange: "443/443" },
        },
        newState: {
          type: TYPE.securityGroupRule,
          inputs: { type: "ingress", cidrIp: "0.0.0.0/0", portRange: "443/443" },
        },
        diffReasons: ["cidrIp"],
      },
      {
        op: "create",
        urn: urn("alicloud:ecs/instance:Instance", "host"),
        newState: { type: "alicloud:ecs/instance:Instance", inputs: { instanceType: "ecs.g7.xlarge" } },
      },
      {
        op: "same",
        urn: urn("alicloud:vpc/network:Network", "vpc"),
        newState: { type: "alicloud:vpc/network:Network", inputs: { cidrBlock: "10.20.0.0/16" } },
      },
    ];
    const result = runGate(JSON.stringify({ steps, changeSummary: { update: 1, create: 1, same: 1 } }), {
      stack: "prod",
    });
    expect(result.blocked).toBe(true);
    const md = renderMarkdown(result);
    expect(md).toContain("⛔ **1 dangerous change(s): merge blocked.**");
    expect(md).toContain(
      '| ⛔ `web` | `alicloud:ecs/securityGroupRule:SecurityGroupRule` | `cidrIp` | `"10.20.0.0/16"` | `"0.0.0.0/0"` |',
    );
    expect(md).toContain("beyond the VPC (10.20.0.0/16)");
    const [exposure, table, cost] = [
      "**Exposure changes**",
      "| Op | Resource |",
      "**Estimated monthly cost change",
    ].map((s) => md.indexOf(s));
    expect(exposure).toBeGreaterThan(0);
    expect(exposure).toBeLessThan(table as number);
    expect(table).toBeLessThan(cost as number);
  });
});
