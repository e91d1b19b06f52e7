import { policies } from "search-backbone-policy/policies";
import { gpuBudgetAdvisory, gpuSpotOutsideProd, gpusPerInstance } from "search-backbone-policy/rules/compute";
import { easNoPublicEndpoint, easVpcOnly } from "search-backbone-policy/rules/eas";
import { noFullAccessOnWorkloadRole, ramNoWildcardAdmin } from "search-backbone-policy/rules/identity";
import { protectStatefulProd, requiredTags } from "search-backbone-policy/rules/lifecycle";
import { sgNoOpenIngress } from "search-backbone-policy/rules/network";
import {
  bm25WeightAdvisory,
  INTRANET_ANNOTATION,
  relevanceEnginesAgree,
  searchDisksEncrypted,
  searchNotPublic,
} from "search-backbone-policy/rules/search";
import { ossEncrypted, ossNoPublicAccess } from "search-backbone-policy/rules/storage";
import { TYPES } from "search-backbone-policy/types";
import { describe, expect, it } from "vitest";
import { type FakeResource, runResourcePolicy, runStackPolicy } from "./run-policy";

const TAGS = { project: "search-backbone", stack: "dev", environment: "dev", owner: "search-platform" };

describe("the pack", () => {
  it("has 13 mandatory and 2 advisory rules with unique names", () => {
    const levels = policies.map((p) => p.enforcementLevel);
    expect(levels.filter((l) => l === "mandatory")).toHaveLength(13);
    expect(levels.filter((l) => l === "advisory")).toHaveLength(2);
    expect(new Set(policies.map((p) => p.name)).size).toBe(policies.length);
  });
});

describe("oss-no-public-access", () => {
  it("passes a private ACL and a public access block", async () => {
    expect(await runResourcePolicy(ossNoPublicAccess, { type: TYPES.bucketAcl, props: { acl: "private" } })).toEqual(
      [],
    );
    const block = { type: TYPES.bucketPublicAccessBlock, props: { blockPublicAccess: true } };
    expect(await runResourcePolicy(ossNoPublicAccess, block)).toEqual([]);
  });
  it("flags a public-read ACL, inline or dedicated, and an unblocked bucket", async () => {
    const acl = { type: TYPES.bucketAcl, props: { bucket: "b", acl: "public-read" } };
    expect(await runResourcePolicy(ossNoPublicAccess, acl)).toEqual([
      'bucket b has ACL "public-read"; expected "private"',
    ]);
    const inline = { type: TYPES.bucket, props: { bucket: "b", acl: "public-read-write" } };
    expect(await runResourcePolicy(ossNoPublicAccess, inline)).toHaveLength(1);
    const block = { type: TYPES.bucketPublicAccessBlock, props: { bucket: "b", blockPublicAccess: false } };
    expect(await runResourcePolicy(ossNoPublicAccess, block)).toEqual([
      "bucket b has blockPublicAccess false; expected true",
    ]);
  });
});

describe("oss-encrypted", () => {
  const bucket = { type: TYPES.bucket, props: { bucket: "docs" } };
  it("passes a bucket with its own encryption resource or an inline rule", async () => {
    const sse = { type: TYPES.bucketEncryption, props: { bucket: "docs", sseAlgorithm: "KMS" } };
    expect(await runStackPolicy(ossEncrypted, [bucket, sse])).toEqual([]);
    const inline = { type: TYPES.bucket, props: { bucket: "x", serverSideEncryptionRule: { sseAlgorithm: "AES256" } } };
    expect(await runStackPolicy(ossEncrypted, [inline])).toEqual([]);
  });
  it("flags a bucket whose encryption targets another bucket or names no algorithm", async () => {
    const other = { type: TYPES.bucketEncryption, props: { bucket: "logs", sseAlgorithm: "AES256" } };
    const none = { type: TYPES.bucketEncryption, props: { bucket: "docs", sseAlgorithm: "" } };
    const violations = await runStackPolicy(ossEncrypted, [bucket, other, none]);
    expect(violations).toEqual([expect.stringContaining("bucket docs has no server-side encryption")]);
  });
});

describe("search-disks-encrypted", () => {
  it("passes encrypted Elasticsearch, node-pool, cloud disks and StorageClass", async () => {
    const ok: FakeResource[] = [
      { type: TYPES.elasticsearch, props: { dataNodeDiskEncrypted: true } },
      { type: TYPES.nodePool, props: { dataDisks: [{ category: "cloud_essd", encrypted: "true" }] } },
      { type: TYPES.nodePool, props: {} },
      { type: TYPES.ecsDisk, props: { encrypted: true } },
      {
        type: TYPES.storageClass,
        props: { provisioner: "diskplugin.csi.alibabacloud.com", parameters: { encrypted: "true" } },
      },
    ];
    for (const r of ok) expect(await runResourcePolicy(searchDisksEncrypted, r), r.type).toEqual([]);
  });
  it("flags each unencrypted kind", async () => {
    const bad: FakeResource[] = [
      { type: TYPES.elasticsearch, props: {} },
      { type: TYPES.nodePool, props: { dataDisks: [{ category: "cloud_essd", size: 100 }] } },
      { type: TYPES.ecsDisk, props: { encrypted: false } },
      { type: TYPES.storageClass, props: { provisioner: "diskplugin.csi.alibabacloud.com", parameters: {} } },
    ];
    for (const r of bad) expect(await runResourcePolicy(searchDisksEncrypted, r), r.type).toHaveLength(1);
  });
});

describe("ram-no-wildcard-admin", () => {
  const doc = (Action: unknown, Resource: unknown) =>
    JSON.stringify({ Version: "1", Statement: [{ Effect: "Allow", Action, Resource }] });
  it("passes named actions, or * on named resources", async () => {
    for (const policyDocument of [doc(["oss:GetObject"], "*"), doc("*", ["acs:oss:*:*:docs/*"])]) {
      expect(await runResourcePolicy(ramNoWildcardAdmin, { type: TYPES.ramPolicy, props: { policyDocument } })).toEqual(
        [],
      );
    }
  });
  it("flags * on * in a document or in statements, and an unparsable document", async () => {
    const inDoc = { type: TYPES.ramPolicy, props: { policyName: "admin", policyDocument: doc(["*"], "*") } };
    expect(await runResourcePolicy(ramNoWildcardAdmin, inDoc)).toEqual([
      'RAM policy admin allows "*" on "*"; grant named actions on named resources',
    ]);
    const statements = { statements: [{ effect: "Allow", actions: ["*"], resources: ["*"] }] };
    expect(await runResourcePolicy(ramNoWildcardAdmin, { type: TYPES.ramPolicy, props: statements })).toHaveLength(1);
    const broken = { type: TYPES.ramPolicy, props: { policyDocument: "{" } };
    expect((await runResourcePolicy(ramNoWildcardAdmin, broken))[0]).toMatch(/^policy document is not valid JSON/);
  });
});

describe("no-fullaccess-on-workload-role", () => {
  it("passes a custom policy and a scoped system policy", async () => {
    for (const props of [
      { roleName: "serving", policyType: "Custom", policyName: "serving-oss" },
      { roleName: "serving", policyType: "System", policyName: "AliyunOSSReadOnlyAccess" },
    ]) {
      expect(await runResourcePolicy(noFullAccessOnWorkloadRole, { type: TYPES.rolePolicyAttachment, props })).toEqual(
        [],
      );
    }
  });
  it("flags a FullAccess system policy", async () => {
    const props = { roleName: "serving", policyType: "System", policyName: "AliyunOSSFullAccess" };
    expect(await runResourcePolicy(noFullAccessOnWorkloadRole, { type: TYPES.rolePolicyAttachment, props })).toEqual([
      "role serving gets system policy AliyunOSSFullAccess; attach a scoped custom policy instead",
    ]);
  });
});

describe("search-not-public", () => {
  const internalService = {
    metadata: { name: "opensearch", annotations: { [INTRANET_ANNOTATION]: "intranet" } },
    spec: { type: "LoadBalancer", selector: { app: "opensearch" } },
  };
  it("passes a private Elasticsearch and an intranet search Service", async () => {
    const es = { type: TYPES.elasticsearch, props: { enablePublic: false, privateWhitelists: ["10.20.0.0/16"] } };
    expect(await runResourcePolicy(searchNotPublic, es)).toEqual([]);
    expect(await runResourcePolicy(searchNotPublic, { type: TYPES.service, props: internalService })).toEqual([]);
  });
  it("flags a public endpoint, an open whitelist and an Internet-facing search Service", async () => {
    const es = { type: TYPES.elasticsearch, props: { enablePublic: true, publicWhitelists: ["0.0.0.0/0"] } };
    expect(await runResourcePolicy(searchNotPublic, es)).toEqual([
      "Elasticsearch has a public endpoint (enablePublic: true)",
      "Elasticsearch publicWhitelists admits 0.0.0.0/0; expected VPC ranges only",
    ]);
    const service = { ...internalService, metadata: { name: "opensearch" } };
    expect(await runResourcePolicy(searchNotPublic, { type: TYPES.service, props: service })).toHaveLength(1);
  });
});

describe("sg-no-open-ingress", () => {
  const rule = (cidrIp: string, portRange: string, ipProtocol = "tcp") => ({
    type: TYPES.securityGroupRule,
    props: { type: "ingress", cidrIp, portRange, ipProtocol },
  });
  it("passes VPC sources, and 0.0.0.0/0 on a declared public port", async () => {
    expect(await runResourcePolicy(sgNoOpenIngress, rule("10.20.0.0/16", "1/65535"))).toEqual([]);
    const options = { config: { publicPorts: [443] } };
    expect(await runResourcePolicy(sgNoOpenIngress, rule("0.0.0.0/0", "443/443"), options)).toEqual([]);
  });
  it("flags 0.0.0.0/0 on an undeclared port and on every port", async () => {
    expect(await runResourcePolicy(sgNoOpenIngress, rule("0.0.0.0/0", "9200/9200"))).toEqual([
      "ingress from 0.0.0.0/0 on ports 9200-9200 (tcp); declared public ports: none",
    ]);
    const options = { config: { publicPorts: [443] } };
    expect(await runResourcePolicy(sgNoOpenIngress, rule("0.0.0.0/0", "-1/-1", "all"), options)).toEqual([
      "ingress from 0.0.0.0/0 on ports 1-65535 (all); declared public ports: 443",
    ]);
  });
});

describe("gpu-spot-outside-prod", () => {
  const gpu = (tags: Record<string, string>, spotStrategy?: string) => ({
    type: TYPES.ecsInstance,
    props: { instanceType: "ecs.gn7i-c8g1.2xlarge", tags, ...(spotStrategy ? { spotStrategy } : {}) },
  });
  it("passes spot outside prod, on-demand in prod, and CPU instances", async () => {
    expect(await runResourcePolicy(gpuSpotOutsideProd, gpu(TAGS, "SpotAsPriceGo"))).toEqual([]);
    expect(await runResourcePolicy(gpuSpotOutsideProd, gpu({ ...TAGS, environment: "prod" }))).toEqual([]);
    const cpu = { type: TYPES.ecsInstance, props: { instanceType: "ecs.g7.xlarge" } };
    expect(await runResourcePolicy(gpuSpotOutsideProd, cpu)).toEqual([]);
  });
  it("flags on-demand GPUs in dev, judged by the stack config when the resource has no tag", async () => {
    expect(await runResourcePolicy(gpuSpotOutsideProd, gpu(TAGS))).toEqual([
      "GPU ecs.gn7i-c8g1.2xlarge outside prod uses spotStrategy NoSpot; expected SpotAsPriceGo or SpotWithPriceLimit",
    ]);
    const pool = { type: TYPES.nodePool, props: { instanceTypes: ["ecs.gn7i-c16g1.4xlarge"], spotStrategy: "NoSpot" } };
    const stackConfig = { "search-backbone:environment": "ephemeral" };
    expect(await runResourcePolicy(gpuSpotOutsideProd, pool, { stackConfig })).toHaveLength(1);
    expect(
      await runResourcePolicy(gpuSpotOutsideProd, pool, { stackConfig: { "search-backbone:environment": "prod" } }),
    ).toEqual([]);
  });
});

describe("protect-stateful-prod", () => {
  const bucket = (environment: string, protect: boolean) => ({
    type: TYPES.bucket,
    props: { tags: { ...TAGS, environment } },
    protect,
  });
  it("passes a protected prod bucket and an unprotected dev bucket", async () => {
    expect(await runResourcePolicy(protectStatefulProd, bucket("prod", true))).toEqual([]);
    expect(await runResourcePolicy(protectStatefulProd, bucket("dev", false))).toEqual([]);
  });
  it("flags an unprotected prod bucket and a prod cluster known only from stack config", async () => {
    expect(await runResourcePolicy(protectStatefulProd, bucket("prod", false))).toEqual([
      `stateful ${TYPES.bucket} in prod is not protected; set the protect resource option`,
    ]);
    const cluster = { type: TYPES.cluster, props: {} };
    const stackConfig = { "search-backbone:environment": "prod" };
    expect(await runResourcePolicy(protectStatefulProd, cluster, { stackConfig })).toHaveLength(1);
  });
});

describe("required-tags", () => {
  const network = (tags?: Record<string, string>) => ({ type: "alicloud:vpc/network:Network", props: { tags } });
  it("passes the standard tags, with expires-at on an ephemeral stack", async () => {
    expect(await runResourcePolicy(requiredTags, network(TAGS))).toEqual([]);
    const ephemeral = { ...TAGS, environment: "ephemeral", "expires-at": "2026-11-23T06:00:00Z" };
    expect(await runResourcePolicy(requiredTags, network(ephemeral))).toEqual([]);
    expect(await runResourcePolicy(requiredTags, { type: TYPES.bucketAcl, props: { acl: "private" } })).toEqual([]);
  });
  it("flags missing tags and an ephemeral resource without a valid expires-at", async () => {
    expect(await runResourcePolicy(requiredTags, network())).toEqual([
      "missing tags: project, stack, environment, owner",
    ]);
    const ephemeral = { ...TAGS, environment: "ephemeral", "expires-at": "tomorrow" };
    expect(await runResourcePolicy(requiredTags, network(ephemeral))).toEqual([
      'ephemeral resource has expires-at "tomorrow"; expected an RFC 3339 time',
    ]);
  });
});

const summary = (engine: string, overrides: Record<string, unknown> = {}) => ({
  type: "backbone:search:RenderedConfig",
  props: {
    relevanceSummary: {
      engine,
      bm25Weight: 0.3,
      vectorWeight: 0.7,
      similarity: "cosine",
      embeddingDims: 768,
      candidateDepth: 100,
      rerankWindow: 50,
      topK: 10,
      ...overrides,
    },
  },
});

describe("relevance-engines-agree", () => {
  it("passes equal renderings, and a stack with one engine", async () => {
    expect(await runStackPolicy(relevanceEnginesAgree, [summary("elasticsearch"), summary("opensearch")])).toEqual([]);
    expect(await runStackPolicy(relevanceEnginesAgree, [summary("opensearch")])).toEqual([]);
  });
  it("names every field on which the engines disagree", async () => {
    const drifted = summary("opensearch", { bm25Weight: 0.4, embeddingDims: 1024 });
    expect(await runStackPolicy(relevanceEnginesAgree, [summary("elasticsearch"), drifted])).toEqual([
      "rendered relevance configurations disagree: bm25Weight: elasticsearch 0.3 vs opensearch 0.4; embeddingDims: elasticsearch 768 vs opensearch 1024",
    ]);
  });
});

describe("relevance-engines-agree on the search setup's settings ConfigMap", () => {
  const settings = (summaries: unknown) => ({
    type: "kubernetes:core/v1:ConfigMap",
    props: { data: { "profile.json": "{}", "relevance-summaries.json": JSON.stringify(summaries) } },
  });
  it("reads both engines' summaries from the one ConfigMap", async () => {
    const agreeing = [summary("elasticsearch").props.relevanceSummary, summary("opensearch").props.relevanceSummary];
    expect(await runStackPolicy(relevanceEnginesAgree, [settings(agreeing)])).toEqual([]);
    const drifted = [agreeing[0], { ...agreeing[1], candidateDepth: 40 }];
    expect(await runStackPolicy(relevanceEnginesAgree, [settings(drifted)])).toEqual([
      "rendered relevance configurations disagree: candidateDepth: elasticsearch 100 vs opensearch 40",
    ]);
  });
  it("ignores a ConfigMap whose summaries key is not a JSON list of summaries", async () => {
    const broken = { type: "kubernetes:core/v1:ConfigMap", props: { data: { "relevance-summaries.json": "{" } } };
    expect(await runStackPolicy(relevanceEnginesAgree, [broken, settings({ engine: "opensearch" })])).toEqual([]);
  });
});

describe("bm25-weight-high (advisory)", () => {
  it("passes 0.5 and below", async () => {
    expect(await runStackPolicy(bm25WeightAdvisory, [summary("opensearch", { bm25Weight: 0.5 })])).toEqual([]);
  });
  it("flags a rendered weight or a configured weight above 0.5", async () => {
    expect(await runStackPolicy(bm25WeightAdvisory, [summary("opensearch", { bm25Weight: 0.6 })])).toHaveLength(1);
    const stackConfig = { "search-backbone:relevance": JSON.stringify({ bm25Weight: 0.7, vectorWeight: 0.3 }) };
    expect(await runStackPolicy(bm25WeightAdvisory, [], { stackConfig })).toEqual([
      "BM25 weight 0.7 is above 0.5; hybrid search will lean on keywords",
    ]);
  });
});

describe("gpu-budget (advisory)", () => {
  const pool = (instanceType: string, maxSize: number) => ({
    type: TYPES.nodePool,
    props: { instanceTypes: [instanceType], scalingConfig: { maxSize } },
  });
  it("counts GPUs per type", () => {
    expect(gpusPerInstance("ecs.gn7i-c8g1.2xlarge")).toBe(1);
    expect(gpusPerInstance("ecs.gn7i-4x.8xlarge")).toBe(4);
    expect(gpusPerInstance("ecs.gn7i-c32g1.32xlarge")).toBe(4);
    expect(gpusPerInstance("ecs.g7.xlarge")).toBe(0);
  });
  it("passes a stack within its budget", async () => {
    const stackConfig = { "search-backbone:environment": "prod" };
    expect(await runStackPolicy(gpuBudgetAdvisory, [pool("ecs.gn7i-c8g1.2xlarge", 4)], { stackConfig })).toEqual([]);
  });
  it("flags a dev stack above its default budget, and one above a configured budget", async () => {
    const stackConfig = { "search-backbone:environment": "dev" };
    expect(await runStackPolicy(gpuBudgetAdvisory, [pool("ecs.gn7i-2x.8xlarge", 1)], { stackConfig })).toEqual([
      "the stack runs up to 2 GPUs; its budget is 1 (policy config gpuBudget)",
    ]);
    const config = { gpuBudget: 2 };
    expect(await runStackPolicy(gpuBudgetAdvisory, [pool("ecs.gn7i-c8g1.2xlarge", 3)], { config })).toHaveLength(1);
  });
});

describe("eas-vpc-only and eas-no-public-endpoint", () => {
  const service = (config: unknown) => ({
    type: TYPES.easService,
    props: { serviceConfig: typeof config === "string" ? config : JSON.stringify(config) },
  });
  const VPC = { vpc_id: "vpc-1", vswitch_id: "vsw-1", security_group_id: "sg-1" };
  const good = {
    metadata: { name: "chat" },
    cloud: { networking: VPC },
    networking: { disable_internet_endpoint: true },
  };

  it("passes a VPC-only service without an internet endpoint, and an unknown config", async () => {
    expect(await runResourcePolicy(easVpcOnly, service(good))).toEqual([]);
    expect(await runResourcePolicy(easNoPublicEndpoint, service(good))).toEqual([]);
    expect(await runResourcePolicy(easVpcOnly, { type: TYPES.easService, props: {} })).toEqual([]);
  });

  it("flags a service outside the VPC, one with a public endpoint, and a config that is not JSON", async () => {
    const noVswitch = { ...good, cloud: { networking: { vpc_id: "vpc-1" } } };
    expect(await runResourcePolicy(easVpcOnly, service(noVswitch))).toEqual([
      "EAS service chat has no cloud.networking.vswitch_id, security_group_id; expected the stack's VPC, vSwitch and security group",
    ]);
    const open = { ...good, networking: {} };
    expect(await runResourcePolicy(easNoPublicEndpoint, service(open))).toEqual([
      "EAS service chat has networking.disable_internet_endpoint undefined; expected true (no public endpoint)",
    ]);
    expect(await runResourcePolicy(easVpcOnly, service("{oops"))).toHaveLength(1);
  });
});
