import * as pulumi from "@pulumi/pulumi";
import { beforeEach, describe, expect, it } from "vitest";
import {
  AIREC_ACTIONS,
  assertLeastPrivilege,
  assertWorkloadScope,
  Identity,
  type PolicyDocument,
  WorkloadIdentity,
} from "../../components/identity";
import { type MockRecorder, resolved, settle, setupMocks, TEST_ACCOUNT_ID } from "../helpers/mocks";

const ROLE = "alicloud:ram/role:Role";
const POLICY = "alicloud:ram/policy:Policy";
const ATTACHMENT = "alicloud:ram/rolePolicyAttachment:RolePolicyAttachment";
const OIDC_ARN = `acs:ram::${TEST_ACCOUNT_ID}:oidc-provider/ack-rrsa-c0ffee`;
const ISSUER = "https://oidc-ack-cn-hangzhou.oss-cn-hangzhou.aliyuncs.com/c0ffee";

let mocks: MockRecorder;
beforeEach(async () => {
  mocks = await setupMocks({
    outputs: { [ROLE]: (a) => ({ arn: `acs:ram::${TEST_ACCOUNT_ID}:role/${a.inputs.roleName}` }) },
  });
});

function identity(name: string, extra: Partial<ConstructorParameters<typeof Identity>[1]> = {}): Identity {
  return new Identity(name, {
    cloudName: "acme-dev",
    accountId: pulumi.output(TEST_ACCOUNT_ID),
    region: "cn-hangzhou",
    buckets: { docs: pulumi.output("acme-dev-docs"), artifacts: "acme-dev-artifacts" },
    rrsa: {
      oidcProviderArn: pulumi.output(OIDC_ARN),
      issuerUrl: ISSUER,
      namespace: "search",
      serviceAccount: "orchestrator",
    },
    tags: { project: "search-backbone", stack: "dev" },
    ...extra,
  });
}

const role = (suffix: string) => mocks.one(ROLE, `-${suffix}-role`);
const trust = (suffix: string) => JSON.parse(role(suffix).inputs.assumeRolePolicyDocument);
const policyDoc = (suffix: string): PolicyDocument =>
  JSON.parse(mocks.one(POLICY, `-${suffix}-policy`).inputs.policyDocument);

describe("WorkloadIdentity", () => {
  it("creates one role, one custom policy and a Custom attachment between them", async () => {
    const doc = JSON.stringify({
      Version: "1",
      Statement: [{ Effect: "Allow", Action: "oss:GetObject", Resource: "acs:oss:*:1:b/p/*" }],
    });
    const wi = new WorkloadIdentity("wi", {
      roleName: "acme-dev-x",
      description: "x",
      trustPolicy: "{}",
      policyDocument: doc,
    });
    expect(await resolved(wi.roleArn)).toBe(`acs:ram::${TEST_ACCOUNT_ID}:role/acme-dev-x`);
    expect(await resolved(wi.policyName)).toBe("acme-dev-x-policy");
    await settle();

    const component = mocks.one("backbone:identity:WorkloadIdentity");
    for (const type of [ROLE, POLICY, ATTACHMENT]) expect(mocks.one(type).parent).toBe(component.urn);
    expect(mocks.one(ROLE).inputs).toMatchObject({ roleName: "acme-dev-x", assumeRolePolicyDocument: "{}" });
    expect(mocks.one(POLICY).inputs).toMatchObject({ policyName: "acme-dev-x-policy", policyDocument: doc });
    expect(mocks.one(ATTACHMENT).inputs).toEqual({
      roleName: "acme-dev-x",
      policyName: "acme-dev-x-policy",
      policyType: "Custom",
    });
  });
});

describe("Identity", () => {
  it("creates the three workload roles, each with only its own custom policy", async () => {
    const id = identity("id");
    const roles = await resolved(pulumi.output(id.roles));
    await settle();

    expect(roles).toEqual({
      training: `acs:ram::${TEST_ACCOUNT_ID}:role/acme-dev-training`,
      serving: `acs:ram::${TEST_ACCOUNT_ID}:role/acme-dev-serving`,
      orchestrator: `acs:ram::${TEST_ACCOUNT_ID}:role/acme-dev-orchestrator`,
    });
    expect(mocks.ofType(ROLE)).toHaveLength(3);
    expect(mocks.ofType(POLICY)).toHaveLength(3);
    const attachments = mocks.ofType(ATTACHMENT);
    expect(attachments).toHaveLength(3);
    for (const a of attachments) {
      expect(a.inputs.policyType).toBe("Custom");
      expect(a.inputs.policyName).toBe(`${a.inputs.roleName}-policy`);
      expect(a.inputs.policyName).not.toMatch(/FullAccess|^Aliyun/);
    }
    // Nothing in the stack attaches a system policy, through any resource type.
    expect(mocks.resources.filter((r) => r.inputs.policyType === "System")).toEqual([]);

    const identityUrn = mocks.one("backbone:identity:Identity").urn;
    expect(mocks.ofType("backbone:identity:WorkloadIdentity").map((w) => w.parent)).toEqual([
      identityUrn,
      identityUrn,
      identityUrn,
    ]);
  });

  it("trusts PAI for training, ECS for serving and one RRSA service account for the orchestrator", async () => {
    identity("trust");
    await settle();

    expect(trust("training").Statement).toEqual([
      { Action: "sts:AssumeRole", Effect: "Allow", Principal: { Service: ["pai.aliyuncs.com"] } },
    ]);
    expect(trust("serving").Statement).toEqual([
      { Action: "sts:AssumeRole", Effect: "Allow", Principal: { Service: ["ecs.aliyuncs.com"] } },
    ]);
    const [rrsa, ...rest] = trust("orchestrator").Statement;
    expect(rest).toEqual([]);
    expect(rrsa.Principal).toEqual({ Federated: [OIDC_ARN] });
    expect(rrsa.Condition.StringEquals).toEqual({
      "oidc:aud": "sts.aliyuncs.com",
      "oidc:iss": ISSUER,
      "oidc:sub": "system:serviceaccount:search:orchestrator",
    });
  });

  it("attaches policies that pass the least-privilege checks, scoped to the stack's buckets", async () => {
    identity("scope");
    await settle();
    for (const suffix of ["training", "serving", "orchestrator"]) {
      const doc = policyDoc(suffix);
      expect(() => assertWorkloadScope(assertLeastPrivilege(doc))).not.toThrow();
      const resources = doc.Statement.flatMap((s) => s.Resource);
      expect(resources.every((r) => r.startsWith(`acs:oss:*:${TEST_ACCOUNT_ID}:acme-dev-`))).toBe(true);
    }
    expect(JSON.stringify(policyDoc("orchestrator"))).not.toContain("airec:");
  });

  it("adds the AIRec statement, on that one instance, once an instance id is given", async () => {
    identity("airec", { airecInstanceId: pulumi.output("airec-cn-abc123") });
    await settle();
    const airec = policyDoc("orchestrator").Statement.filter((s) => String(s.Action).includes("airec:"));
    expect(airec).toEqual([
      {
        Effect: "Allow",
        Action: [...AIREC_ACTIONS],
        Resource: [`acs:airec:cn-hangzhou:${TEST_ACCOUNT_ID}:instance/airec-cn-abc123`],
      },
    ]);
  });

  it("exports the CI deployer policy as JSON without granting it to anything", async () => {
    const id = identity("deployer", { deployer: { registryEdition: "enterprise" } });
    const doc = JSON.parse(await resolved(id.deployerPolicy)) as PolicyDocument;
    await settle();
    expect(() => assertLeastPrivilege(doc)).not.toThrow();
    expect(JSON.stringify(doc)).toContain(`acs:ram:*:${TEST_ACCOUNT_ID}:role/acme-dev-*`);
    expect(mocks.ofType(POLICY).map((p) => p.inputs.policyName)).not.toContain(expect.stringMatching(/deployer/));
  });
});
