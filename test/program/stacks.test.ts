import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../stacks/config";
import { resolved } from "../helpers/mocks";
import { runProgram } from "../helpers/program";
import { ephemeralStackText, readRepoFile } from "../helpers/stack-files";

const COMPONENTS = [
  "backbone:network:Network",
  "backbone:storage:Storage",
  "backbone:cluster:Cluster",
  "backbone:identity:Identity",
  "backbone:registry:Registry",
];

/** Evaluates the whole program under mocks as `pulumi up` would for the given stack file. */
async function evaluate(stack: string, stackFileText: string) {
  const { recorder, outputs, error } = await runProgram(stack, stackFileText);
  if (error) throw error;
  return { recorder, outputs };
}

const STACK_FILES: [string, () => string][] = [
  ["dev", () => readRepoFile("Pulumi.dev.yaml")],
  ["prod", () => readRepoFile("Pulumi.prod.yaml")],
  ["pr-42", () => ephemeralStackText()],
];

describe.each(STACK_FILES)("stack %s evaluates under the mock runtime", (stack, text) => {
  it("registers every component once, each child under a component", async () => {
    const { recorder, outputs } = await evaluate(stack, text());
    for (const type of COMPONENTS) expect(recorder.ofType(type), type).toHaveLength(1);
    const componentUrns = new Set(recorder.resources.filter((r) => !r.custom).map((r) => r.urn));
    const orphans = recorder.resources.filter((r) => r.custom && !r.type.startsWith("pulumi:providers:") && !r.parent);
    expect(orphans.map((r) => `${r.type}::${r.name}`)).toEqual([]);
    expect(recorder.resources.filter((r) => r.parent && !componentUrns.has(r.parent) && !r.custom)).toEqual([]);
    expect(await resolved(outputs.storage.docsBucket)).toMatch(new RegExp(`^acme-search-${stack}-docs$`));
  });

  it("uses one explicit Alibaba Cloud provider in the stack's region", async () => {
    const { recorder } = await evaluate(stack, text());
    const provider = recorder.one("pulumi:providers:alicloud");
    expect(provider.inputs.region).toBe(stack === "prod" ? "cn-shanghai" : "cn-hangzhou");
    const unprovided = recorder.resources.filter(
      (r) => r.custom && r.type.startsWith("alicloud:") && !r.provider?.includes("::alicloud::"),
    );
    expect(unprovided.map((r) => r.name)).toEqual([]);
  });

  it("protects stateful resources in prod only", async () => {
    const { recorder } = await evaluate(stack, text());
    const buckets = recorder.ofType("alicloud:oss/bucket:Bucket");
    const clusters = recorder.ofType("alicloud:cs/managedKubernetes:ManagedKubernetes");
    expect(buckets.length).toBeGreaterThanOrEqual(2);
    for (const resource of [...buckets, ...clusters]) {
      expect(resource.protect, resource.name).toBe(stack === "prod");
    }
    if (stack === "prod") for (const bucket of buckets) expect(bucket.retainOnDelete, bucket.name).toBe(true);
  });
});

describe("a bad stack file", () => {
  it("stops the program with every problem listed and registers nothing", async () => {
    const text = readRepoFile("Pulumi.dev.yaml")
      .replace("bm25Weight: 0.3", "bm25Weight: 0.5")
      .replace("instanceType: ecs.gn7i-c8g1.2xlarge", "instanceType: ecs.gn6i-c4g1.xlarge")
      .replace("  search-backbone:network:", "  search-backbone:netwrok: {}\n  search-backbone:network:");
    const { recorder, error } = await runProgram("dev", text);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => p.path.join("."))).toEqual(
      expect.arrayContaining(["netwrok", "serving.gpu.instanceType", "relevance.vectorWeight"]),
    );
    expect(recorder.resources).toEqual([]);
  });
});

/** Whether the provider's Args interface for a type token has a `tags` input. */
function acceptsTags(type: string): boolean {
  const match = /^alicloud:([\w]+)\/(\w+):(\w+)$/.exec(type);
  if (!match) return false;
  const [, module, file, resource] = match;
  const declarations = readFileSync(require.resolve(`@pulumi/alicloud/${module}/${file}.d.ts`), "utf8");
  const args = declarations.slice(declarations.indexOf(`export interface ${resource}Args {`));
  return /\n\s+tags\?: /.test(args.slice(0, args.indexOf("\n}")));
}

describe("tags", () => {
  it.each(STACK_FILES)("every taggable resource of stack %s carries the standard tags", async (stack, text) => {
    const { recorder } = await evaluate(stack, text());
    const taggable = recorder.resources.filter((r) => r.custom && acceptsTags(r.type));
    expect(taggable.length).toBeGreaterThan(10);
    const expected: Record<string, string> = { project: "search-backbone", stack, owner: expect.any(String) as never };
    if (stack === "pr-42") expected["expires-at"] = "2026-11-23T06:00:00Z";
    for (const resource of taggable) {
      expect(resource.inputs.tags, `${resource.type} ${resource.name}`).toMatchObject(expected);
    }
  });
});

describe.each(STACK_FILES)("security invariants across stack %s", (stack, text) => {
  it("no public bucket, no open security group, no FullAccess policy on a role", async () => {
    const { recorder } = await evaluate(stack, text());
    const buckets = recorder.ofType("alicloud:oss/bucket:Bucket").map((b) => b.inputs.bucket);
    const acls = recorder.ofType("alicloud:oss/bucketAcl:BucketAcl");
    const blocks = recorder.ofType("alicloud:oss/bucketPublicAccessBlock:BucketPublicAccessBlock");
    expect(acls.map((a) => a.inputs.bucket).sort()).toEqual([...buckets].sort());
    for (const acl of acls) expect(acl.inputs.acl).toBe("private");
    expect(blocks.map((b) => b.inputs.bucket).sort()).toEqual([...buckets].sort());
    for (const block of blocks) expect(block.inputs.blockPublicAccess).toBe(true);

    const rules = recorder.ofType("alicloud:ecs/securityGroupRule:SecurityGroupRule");
    expect(rules.length).toBeGreaterThan(0);
    for (const rule of rules) expect(rule.inputs.cidrIp ?? "", rule.name).not.toBe("0.0.0.0/0");

    const attachments = recorder.ofType("alicloud:ram/rolePolicyAttachment:RolePolicyAttachment");
    // The three workload roles, and the chat model's training role where models.training.llm is on (dev).
    expect(attachments.length).toBe(stack === "dev" ? 4 : 3);
    for (const attachment of attachments) {
      expect(attachment.inputs.policyType).toBe("Custom");
      expect(String(attachment.inputs.policyName)).not.toMatch(/FullAccess/i);
    }
  });
});
