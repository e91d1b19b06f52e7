import { ORCHESTRATOR_WRITE_PREFIX_DEFAULTS } from "@search-backbone/relevance";
import { describe, expect, it } from "vitest";
import {
  airecDeployerInput,
  asList,
  assertLeastPrivilege,
  assertWorkloadScope,
  deployerPolicy,
  ecsTrustPolicy,
  llmTrainingPolicy,
  MAX_POLICY_BYTES,
  orchestratorPolicy,
  type PolicyDocument,
  paiTrustPolicy,
  rrsaTrustPolicy,
  type Statement,
  servingPolicy,
  trainingPolicy,
} from "../../components/identity";

const UID = "1234567890123456";
const input = {
  accountId: UID,
  region: "cn-hangzhou",
  buckets: { docs: "acme-dev-docs", artifacts: "acme-dev-artifacts" },
};
const DOCS = `acs:oss:*:${UID}:acme-dev-docs`;
const ARTIFACTS = `acs:oss:*:${UID}:acme-dev-artifacts`;
const AIREC = `acs:airec:cn-hangzhou:${UID}:instance/airec-cn-abc123`;

/** Every grant as "Effect action resource [condition]", sorted: the whole surface of a document. */
function grants(doc: PolicyDocument): string[] {
  return doc.Statement.flatMap((s) =>
    asList(s.Action).flatMap((a) =>
      asList(s.Resource).map((r) => `${s.Effect} ${a} ${r}${s.Condition ? ` ${JSON.stringify(s.Condition)}` : ""}`),
    ),
  ).sort();
}

const listWithin = (prefixes: string[]) => JSON.stringify({ StringLike: { "oss:Prefix": prefixes } });

// The exact permissions of each workload role. Adding anything to a renderer fails here first.
describe("workload policies grant exactly their documented permissions", () => {
  it("training: reads raw/ and training/ of docs, writes models/ of artifacts", () => {
    expect(grants(trainingPolicy(input))).toEqual(
      [
        `Allow oss:ListObjects ${DOCS} ${listWithin(["raw/*", "training/*"])}`,
        `Allow oss:GetObject ${DOCS}/raw/*`,
        `Allow oss:GetObject ${DOCS}/training/*`,
        `Allow oss:PutObject ${ARTIFACTS}/models/*`,
        `Allow oss:GetObject ${ARTIFACTS}/models/*`,
        `Allow oss:AbortMultipartUpload ${ARTIFACTS}/models/*`,
        `Allow oss:ListParts ${ARTIFACTS}/models/*`,
      ].sort(),
    );
  });

  it("the chat model's job: reads raw/ and logs/ of docs and the base's prefix, writes only its own models/ folder", () => {
    const doc = llmTrainingPolicy({
      ...input,
      base: { bucket: "acme-base-models", prefix: "qwen/Qwen2.5-1.5B-Instruct" },
      outputPrefix: "models/chat/",
    });
    const BASE = `acs:oss:*:${UID}:acme-base-models`;
    expect(grants(doc)).toEqual(
      [
        `Allow oss:ListObjects ${DOCS} ${listWithin(["raw/*", "logs/*"])}`,
        `Allow oss:GetObject ${DOCS}/raw/*`,
        `Allow oss:GetObject ${DOCS}/logs/*`,
        `Allow oss:ListObjects ${BASE} ${listWithin(["qwen/Qwen2.5-1.5B-Instruct/*"])}`,
        `Allow oss:GetObject ${BASE}/qwen/Qwen2.5-1.5B-Instruct/*`,
        `Allow oss:PutObject ${ARTIFACTS}/models/chat/*`,
        `Allow oss:GetObject ${ARTIFACTS}/models/chat/*`,
        `Allow oss:AbortMultipartUpload ${ARTIFACTS}/models/chat/*`,
        `Allow oss:ListParts ${ARTIFACTS}/models/chat/*`,
      ].sort(),
    );
    expect(Buffer.byteLength(JSON.stringify(doc))).toBeLessThanOrEqual(MAX_POLICY_BYTES);
    const base = { bucket: "b", prefix: "p/" };
    expect(() => llmTrainingPolicy({ ...input, base, outputPrefix: "models/" })).toThrow(/folder under models\//);
    expect(() => llmTrainingPolicy({ ...input, base, outputPrefix: "logs/x/" })).toThrow(/output prefix/);
    expect(() =>
      llmTrainingPolicy({ ...input, base: { bucket: "b", prefix: "" }, outputPrefix: "models/chat/" }),
    ).toThrow(/whole bucket/);
  });

  it("serving: reads models/ of artifacts", () => {
    expect(grants(servingPolicy(input))).toEqual(
      [
        `Allow oss:ListObjects ${ARTIFACTS} ${listWithin(["models/*"])}`,
        `Allow oss:GetObject ${ARTIFACTS}/models/*`,
      ].sort(),
    );
  });

  it("orchestrator: reads raw/, writes logs/, and uses exactly one AIRec instance", () => {
    const base = [
      `Allow oss:ListObjects ${DOCS} ${listWithin(["raw/*"])}`,
      `Allow oss:GetObject ${DOCS}/raw/*`,
      `Allow oss:PutObject ${DOCS}/logs/*`,
      `Allow oss:AbortMultipartUpload ${DOCS}/logs/*`,
    ];
    expect(grants(orchestratorPolicy(input))).toEqual([...base].sort());
    expect(grants(orchestratorPolicy({ ...input, airecInstanceId: "airec-cn-abc123" }))).toEqual(
      [...base, `Allow airec:Recommend ${AIREC}`, `Allow airec:PushDocument ${AIREC}`].sort(),
    );
  });

  it("allows every prefix the orchestrator writes by default (its event-log and chat-log defaults)", () => {
    // An OSS resource ARN with a trailing `*` matches every object key it prefixes.
    const writable = orchestratorPolicy(input)
      .Statement.filter((s) => asList(s.Action).includes("oss:PutObject"))
      .flatMap((s) => asList(s.Resource));
    const allowed = (key: string) =>
      writable.some((arn) => arn.endsWith("*") && `${DOCS}/${key}`.startsWith(arn.slice(0, -1)));
    const defaults = Object.entries(ORCHESTRATOR_WRITE_PREFIX_DEFAULTS);
    expect(defaults.map(([name]) => name).sort()).toEqual([
      "CHAT_LOG_PREFIX",
      "EVENT_LOG_PREFIX",
      "EVENT_LOG_RECS_PREFIX",
    ]);
    for (const [name, prefix] of defaults) {
      expect({
        name,
        prefix,
        allowed: allowed(`${prefix}dt=2026-12-07/hour=15/orchestrator-0-000000000001.jsonl.gz`),
      }).toEqual({
        name,
        prefix,
        allowed: true,
      });
    }
    // And the check can fail: the old default lay outside logs/.
    expect(allowed("telemetry/recs-events/dt=2026-12-07/x.jsonl.gz")).toBe(false);
  });

  it("adds KMS on the one bucket key only when buckets use SSE-KMS", () => {
    const key = `acs:kms:cn-hangzhou:${UID}:key/key-hzz123`;
    const withKey = { ...input, kmsKeyId: "key-hzz123" };
    const kmsGrants = (doc: PolicyDocument) => grants(doc).filter((g) => g.includes(" kms:"));
    expect(kmsGrants(servingPolicy(withKey))).toEqual([`Allow kms:Decrypt ${key}`]);
    expect(kmsGrants(trainingPolicy(withKey))).toEqual([
      `Allow kms:Decrypt ${key}`,
      `Allow kms:GenerateDataKey ${key}`,
    ]);
    expect(kmsGrants(trainingPolicy(input))).toEqual([]);
  });
});

const WORKLOAD_DOCS: Record<string, PolicyDocument> = {
  training: trainingPolicy({ ...input, kmsKeyId: "key-1" }),
  serving: servingPolicy(input),
  orchestrator: orchestratorPolicy({ ...input, airecInstanceId: "airec-cn-abc123" }),
};

describe.each(Object.entries(WORKLOAD_DOCS))("%s policy, statement by statement", (_role, doc) => {
  it.each(doc.Statement.map((s, i) => [i, s] as const))("Statement[%i] is narrow", (_i, statement: Statement) => {
    expect(statement.Effect).toBe("Allow");
    for (const action of asList(statement.Action)) {
      expect(action).not.toBe("*");
      expect(action).not.toMatch(/:\*$/);
      expect(action).not.toMatch(/\*/);
    }
    for (const resource of asList(statement.Resource)) {
      expect(resource).not.toBe("*");
      expect(resource).not.toMatch(/^acs:oss:\*:\*:\*/);
      if (resource.startsWith("acs:oss:")) {
        // Exactly one of the two buckets, and objects only under a named prefix.
        expect(resource).toMatch(
          new RegExp(`^acs:oss:\\*:${UID}:acme-dev-(docs|artifacts)(/(raw|training|models|logs)/\\*)?$`),
        );
      }
      if (!resource.includes("/") && resource.startsWith("acs:oss:")) {
        expect(statement.Action).toEqual(["oss:ListObjects"]);
        expect(statement.Condition?.StringLike?.["oss:Prefix"]).toBeDefined();
      }
    }
  });

  it("fits in one RAM policy", () => {
    expect(Buffer.byteLength(JSON.stringify(doc))).toBeLessThanOrEqual(MAX_POLICY_BYTES);
  });
});

/** Documents that must be refused, each one widening a valid policy in one way. */
const base: Statement = { Effect: "Allow", Action: ["oss:GetObject"], Resource: [`${DOCS}/raw/*`] };
const widened: Record<string, Statement[]> = {
  'Action "*"': [{ ...base, Action: ["*"] }],
  'Action "*" on a narrow resource': [{ ...base, Action: "*" }],
  'service wildcard on Resource "*"': [{ ...base, Action: ["oss:*"], Resource: ["*"] }],
  'ecs:* on Resource "*"': [{ Effect: "Allow", Action: "ecs:*", Resource: "*" }],
  "all buckets": [{ ...base, Resource: ["acs:oss:*:*:*"] }],
  "all buckets of the account": [{ ...base, Resource: [`acs:oss:*:${UID}:*`] }],
  'OSS reads on Resource "*"': [{ ...base, Resource: ["*"] }],
  NotAction: [{ ...base, NotAction: ["ram:*"] } as unknown as Statement],
  NotResource: [{ ...base, NotResource: ["acs:ram:*"] } as unknown as Statement],
  "more than RAM's 6,144 bytes": Array.from({ length: 80 }, (_, i) => ({
    ...base,
    Resource: [`${DOCS}/raw/${"x".repeat(40)}${i}/*`],
  })),
};

describe("assertLeastPrivilege refuses wider documents", () => {
  it.each(Object.entries(widened))("refuses %s", (_label, statements) => {
    expect(() => assertLeastPrivilege({ Version: "1", Statement: statements })).toThrow(/wider than allowed/);
  });

  it("refuses an empty document", () => {
    expect(() => assertLeastPrivilege({ Version: "1", Statement: [] })).toThrow(/non-empty/);
  });

  it("accepts a Deny of anything (a Deny only ever narrows)", () => {
    expect(() =>
      assertLeastPrivilege({ Version: "1", Statement: [base, { Effect: "Deny", Action: "*", Resource: "*" }] }),
    ).not.toThrow();
  });

  it("catches every single-statement widening of the rendered workload policies", () => {
    for (const doc of Object.values(WORKLOAD_DOCS)) {
      doc.Statement.forEach((statement, i) => {
        const service = asList(statement.Action)[0]?.split(":")[0];
        const variants: Statement[] = [
          { ...statement, Action: ["*"] },
          { ...statement, Action: [`${service}:*`], Resource: ["*"] },
          { ...statement, Resource: ["*"] },
        ];
        for (const variant of variants) {
          const mutated = { ...doc, Statement: doc.Statement.map((s, j) => (j === i ? variant : s)) };
          expect(() => assertWorkloadScope(assertLeastPrivilege(mutated))).toThrow(/wider than allowed/);
        }
      });
    }
  });
});

describe("assertWorkloadScope", () => {
  it("refuses whole-bucket object access", () => {
    const doc: PolicyDocument = { Version: "1", Statement: [{ ...base, Resource: [`${DOCS}/*`] }] };
    expect(() => assertWorkloadScope(doc)).toThrow(/not a prefix ARN/);
  });

  it("refuses listing without an oss:Prefix condition, or with a match-all one", () => {
    const list: Statement = { Effect: "Allow", Action: ["oss:ListObjects"], Resource: [DOCS] };
    expect(() => assertWorkloadScope({ Version: "1", Statement: [list] })).toThrow(/oss:Prefix/);
    const all = { ...list, Condition: { StringLike: { "oss:Prefix": ["*"] } } };
    expect(() => assertWorkloadScope({ Version: "1", Statement: [all] })).toThrow(/oss:Prefix/);
  });

  it("refuses bad names instead of rendering them", () => {
    expect(() => servingPolicy({ ...input, buckets: { ...input.buckets, artifacts: "*" } })).toThrow(/bucket name/);
    expect(() => servingPolicy({ ...input, accountId: "*" })).toThrow(/account id/);
    expect(() => orchestratorPolicy({ ...input, airecInstanceId: "*" })).toThrow(/AIRec instance id/);
  });
});

describe("trust policies", () => {
  it("lets only ECS assume the serving role", () => {
    expect(ecsTrustPolicy()).toEqual({
      Version: "1",
      Statement: [{ Action: "sts:AssumeRole", Effect: "Allow", Principal: { Service: ["ecs.aliyuncs.com"] } }],
    });
  });

  it("lets only PAI assume the training role", () => {
    expect(paiTrustPolicy().Statement).toEqual([
      { Action: "sts:AssumeRole", Effect: "Allow", Principal: { Service: ["pai.aliyuncs.com"] } },
    ]);
    expect(() => paiTrustPolicy("*")).toThrow(/service principal/);
  });

  const rrsa = {
    oidcProviderArn: `acs:ram::${UID}:oidc-provider/ack-rrsa-c0ffee`,
    issuerUrl: "https://oidc-ack-cn-hangzhou.oss-cn-hangzhou.aliyuncs.com/c0ffee",
    namespace: "search",
    serviceAccount: "orchestrator",
  };

  it("lets exactly one service account of one cluster assume the orchestrator role", () => {
    expect(rrsaTrustPolicy(rrsa)).toEqual({
      Version: "1",
      Statement: [
        {
          Action: "sts:AssumeRole",
          Effect: "Allow",
          Principal: { Federated: [rrsa.oidcProviderArn] },
          Condition: {
            StringEquals: {
              "oidc:aud": "sts.aliyuncs.com",
              "oidc:iss": rrsa.issuerUrl,
              "oidc:sub": "system:serviceaccount:search:orchestrator",
            },
          },
        },
      ],
    });
  });

  it.each([
    ["a wildcard service account", { serviceAccount: "*" }],
    ["a wildcard namespace", { namespace: "*" }],
    ["an empty provider ARN (RRSA off)", { oidcProviderArn: "" }],
    ["a non-OIDC principal", { oidcProviderArn: `acs:ram::${UID}:root` }],
    ["a plain-http issuer", { issuerUrl: "http://example.com" }],
  ])("refuses %s", (_label, change) => {
    expect(() => rrsaTrustPolicy({ ...rrsa, ...change })).toThrow(/RRSA trust/);
  });
});

describe("CI deployer policy", () => {
  const deployer = { accountId: UID, region: "cn-hangzhou", cloudName: "acme-dev" };
  const variants = {
    dev: deployerPolicy(deployer),
    ephemeral: deployerPolicy({ ...deployer, emptyBucketsOnDestroy: true }),
    prod: deployerPolicy({ ...deployer, registryEdition: "enterprise", kmsKeyId: "key-1" }),
  };

  it.each(Object.entries(variants))("%s: passes the invariants and fits RAM's size limit", (_label, doc) => {
    expect(() => assertLeastPrivilege(doc)).not.toThrow();
    expect(Buffer.byteLength(JSON.stringify(doc))).toBeLessThanOrEqual(MAX_POLICY_BYTES);
  });

  // Every Resource a RAM or OSS action is granted on, per variant: only the stack's own roles,
  // policies and buckets; objects only where the stack may empty its buckets.
  const ownNames = {
    ram: [`acs:ram:*:${UID}:policy/acme-dev-*`, `acs:ram:*:${UID}:role/acme-dev-*`],
    oss: [`acs:oss:*:${UID}:acme-dev-*`],
  };
  const scopes: Record<keyof typeof variants, typeof ownNames> = {
    dev: ownNames,
    ephemeral: { ...ownNames, oss: [`acs:oss:*:${UID}:acme-dev-*`, `acs:oss:*:${UID}:acme-dev-*/*`] },
    prod: ownNames,
  };

  it.each(Object.entries(variants))("%s: scopes RAM and OSS to the stack's own names", (label, doc) => {
    const granted = { ram: new Set<string>(), oss: new Set<string>() };
    for (const g of grants(doc)) {
      const [, action = "", resource = ""] = g.split(" ");
      const service = action.split(":")[0];
      if (service === "ram" || service === "oss") granted[service].add(resource);
    }
    expect({ ram: [...granted.ram].sort(), oss: [...granted.oss].sort() }).toEqual(
      scopes[label as keyof typeof variants],
    );
  });

  it.each(Object.entries(variants))('%s: uses Resource "*" only for reads and billing', (_label, doc) => {
    const global = grants(doc)
      .filter((g) => g.endsWith(" *"))
      .map((g) => g.split(" ")[1]);
    expect(global.length).toBeGreaterThan(0);
    for (const action of global) expect(action).toMatch(/^([a-z]+:(Describe|Get|List)\*|bssapi:\w+)$/);
  });

  it("training: PAI DLC and workspace calls (no narrower Resource exists), code objects in the stack's buckets only", () => {
    const training = deployerPolicy({ ...deployer, training: true });
    expect(() => assertLeastPrivilege(training)).not.toThrow();
    expect(Buffer.byteLength(JSON.stringify(training))).toBeLessThanOrEqual(MAX_POLICY_BYTES);
    const pai = grants(training).filter((g) => / pai(dlc|workspace):/.test(g));
    expect(pai).toContain("Allow paidlc:CreateJob *");
    expect(pai.filter((g) => !g.endsWith(" *"))).toEqual([]);
    expect(grants(training).filter((g) => g.includes("oss:PutObject"))).toEqual([
      `Allow oss:PutObject acs:oss:*:${UID}:acme-dev-*/models/training-code/*`,
    ]);
    expect(grants(variants.dev).filter((g) => / (paidlc|paiworkspace|nlb):/.test(g))).toEqual([]);
  });

  it("TorchServe hosts: NLB writes scoped to this region and account", () => {
    const serving = deployerPolicy({ ...deployer, gpuServing: true, training: true, registryEdition: "enterprise" });
    expect(Buffer.byteLength(JSON.stringify(serving))).toBeLessThanOrEqual(MAX_POLICY_BYTES);
    const nlb = grants(serving).filter((g) => g.includes(" nlb:"));
    expect(nlb).toContain(`Allow nlb:Create* acs:nlb:cn-hangzhou:${UID}:*`);
    for (const g of nlb) expect(g).toMatch(new RegExp(` acs:nlb:cn-hangzhou:${UID}:\\*$`));
  });

  it("writes only to this region and account outside RAM and OSS", () => {
    for (const g of grants(variants.prod)) {
      const [, action = "", resource = ""] = g.split(" ");
      if (resource === "*" || /^(ram|oss):/.test(action)) continue;
      expect(resource).toMatch(new RegExp(`^acs:[a-z]+:cn-hangzhou:${UID}:`));
    }
  });

  it("empties buckets only for stacks that destroy them", () => {
    const deletes = (doc: PolicyDocument) => grants(doc).filter((g) => g.includes("oss:DeleteObject"));
    expect(deletes(variants.dev)).toEqual([]);
    expect(deletes(variants.ephemeral).length).toBeGreaterThan(0);
  });

  it("cannot attach system policies: attachment is scoped to the stack's custom policies", () => {
    const attach = grants(variants.prod).filter((g) => g.includes("ram:AttachPolicyToRole"));
    expect(attach.map((g) => g.split(" ")[2])).toEqual(
      [`acs:ram:*:${UID}:policy/acme-dev-*`, `acs:ram:*:${UID}:role/acme-dev-*`].sort(),
    );
  });

  it("AIRec: the set-up calls on the adopted instance only; buying scoped to the region's instances", () => {
    const airec = (doc: PolicyDocument) => grants(doc).filter((g) => g.includes(" airec:"));
    const setup = ["CreateScene", "DescribeInstance", "ListDataSource", "ListScenes"];
    expect(airec(variants.dev)).toEqual([]);
    const adopted = deployerPolicy({ ...deployer, airec: { instanceId: "airec-cn-abc123" } });
    expect(airec(adopted)).toEqual(setup.map((a) => `Allow airec:${a} ${AIREC}`));
    const buying = deployerPolicy({ ...deployer, airec: { create: true } });
    expect(airec(buying)).toEqual(
      ["CreateInstance", ...setup].sort().map((a) => `Allow airec:${a} acs:airec:cn-hangzhou:${UID}:instance/*`),
    );
    for (const doc of [adopted, buying]) expect(() => assertLeastPrivilege(doc)).not.toThrow();
    expect(() => deployerPolicy({ ...deployer, airec: { instanceId: "*" } })).toThrow(/AIRec instance id/);
  });

  it("EAS: service calls on the stack's own services only, and none without EAS", () => {
    const eas = (doc: PolicyDocument) => grants(doc).filter((g) => g.includes(" eas:"));
    expect(eas(variants.dev)).toEqual([]);
    const withEas = deployerPolicy({ ...deployer, eas: { workspaceId: "123456" } });
    const granted = eas(withEas);
    expect(granted).toContain(`Allow eas:CreateService acs:eas:cn-hangzhou:${UID}:service/acme_dev_*`);
    expect(granted.every((g) => g.endsWith(`acs:eas:cn-hangzhou:${UID}:service/acme_dev_*`))).toBe(true);
    expect(() => assertLeastPrivilege(withEas)).not.toThrow();
    expect(() => deployerPolicy({ ...deployer, eas: { workspaceId: "*" } })).toThrow(
      'eas.workspaceId: got "*"; expected a PAI workspace id (digits)',
    );
  });

  it("refuses a cloud name that would widen the scope", () => {
    expect(() => deployerPolicy({ ...deployer, cloudName: "*" })).toThrow(/cloudName/);
    expect(() => deployerPolicy({ ...deployer, cloudName: "" })).toThrow(/cloudName/);
  });

  it("scopes AIRec by how the stack manages it: buying, one adopted instance, or not at all", () => {
    const id = "airec-cn-o400whm78004";
    expect(airecDeployerInput({ mode: "create" })).toEqual({ create: true });
    // An id left from adopting does not widen a purchase to it, nor survive turning AIRec off.
    expect(airecDeployerInput({ mode: "create", instanceId: id })).toEqual({ create: true });
    expect(airecDeployerInput({ mode: "adopt", instanceId: id })).toEqual({ instanceId: id });
    expect(airecDeployerInput({ mode: "adopt" })).toEqual({});
    expect(airecDeployerInput({ mode: "off", instanceId: id })).toEqual({});
  });
});
