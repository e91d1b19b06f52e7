import * as pulumi from "@pulumi/pulumi";
import { policies } from "search-backbone-policy/policies";
import { describe, expect, it } from "vitest";
import { settle, setupMocks } from "../helpers/mocks";
import { engineConfigFor, ephemeralStackText, readRepoFile } from "../helpers/stack-files";
import { type FakeResource, runPolicy } from "./run-policy";

/** Every resource the program registers for a stack file under the mock runtime, as the pack sees it. */
async function registered(stack: string, stackFileText: string) {
  const recorder = await setupMocks({ stack });
  const config = engineConfigFor(stackFileText);
  pulumi.runtime.setAllConfig(config);
  const { runStack } = await import("../../stacks/index.js");
  runStack();
  await settle();
  const resources: FakeResource[] = recorder.resources.map((r) => ({
    type: r.type,
    name: r.name,
    props: r.inputs,
    protect: r.protect,
  }));
  return { resources, config };
}

const STACKS: [string, () => string][] = [
  ["dev", () => readRepoFile("Pulumi.dev.yaml")],
  ["prod", () => readRepoFile("Pulumi.prod.yaml")],
  ["pr-42", () => ephemeralStackText()],
];

describe.each(STACKS)("the %s stack under the policy pack", (stack, text) => {
  it("passes every mandatory rule", async () => {
    const { resources, config } = await registered(stack, text());
    expect(resources.length).toBeGreaterThan(30);
    const violations: Record<string, string[]> = {};
    for (const policy of policies.filter((p) => p.enforcementLevel === "mandatory")) {
      const found = await runPolicy(policy, resources, { stackConfig: config });
      if (found.length > 0) violations[policy.name] = found;
    }
    expect(violations).toEqual({});
  });

  it("is checked for real: the rules see the stack's buckets, roles, rules and node pools", async () => {
    const { resources } = await registered(stack, text());
    const types = new Set(resources.map((r) => r.type));
    for (const type of [
      "alicloud:oss/bucket:Bucket",
      "alicloud:oss/bucketServerSideEncryption:BucketServerSideEncryption",
      "alicloud:ram/policy:Policy",
      "alicloud:ram/rolePolicyAttachment:RolePolicyAttachment",
      "alicloud:ecs/securityGroupRule:SecurityGroupRule",
      "alicloud:cs/nodePool:NodePool",
      "alicloud:cs/managedKubernetes:ManagedKubernetes",
    ]) {
      expect(types, type).toContain(type);
    }
  });
});

describe("the same run catches a weakened stack", () => {
  it("flags an unprotected prod bucket, and an open rule, when the recorded resources are altered", async () => {
    const { resources, config } = await registered("prod", readRepoFile("Pulumi.prod.yaml"));
    const bucket = resources.find((r) => r.type === "alicloud:oss/bucket:Bucket");
    const rule = resources.find((r) => r.type === "alicloud:ecs/securityGroupRule:SecurityGroupRule");
    const weakened = resources.map((r) =>
      r === bucket ? { ...r, protect: false } : r === rule ? { ...r, props: { ...r.props, cidrIp: "0.0.0.0/0" } } : r,
    );
    const byName = Object.fromEntries(policies.map((p) => [p.name, p]));
    expect(await runPolicy(byName["protect-stateful-prod"]!, weakened, { stackConfig: config })).toHaveLength(1);
    expect(await runPolicy(byName["sg-no-open-ingress"]!, weakened, { stackConfig: config })).toHaveLength(1);
  });
});
