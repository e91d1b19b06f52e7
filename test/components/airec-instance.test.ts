import { describe, expect, it } from "vitest";
import {
  type AirecSpec,
  airecSpecProblems,
  airecVpcEndpoint,
  createInstanceBody,
  describeInstance,
  setUpAirec,
} from "../../components/recommendations/airec-api";
import { replacedProperties } from "../../components/recommendations/airec-instance";
import { FAKE_AK } from "../helpers/fakes/acs3";
import { AirecFake, airecFakeEnv } from "../helpers/fakes/airec";
import { useApiFake } from "../helpers/fakes/setup";

const ADOPTED = "airec-cn-o400whm78004";
const purchase = {
  edition: "Algorithm Configuration Edition",
  quota: { userCount: 1_000_000, itemCount: 1_000_000, qps: 10 },
  payment: { duration: 1, pricingCycle: "Month", autoRenew: false },
} as const;
const adopt: AirecSpec = { region: "cn-hangzhou", mode: "adopt", instanceId: ADOPTED, scenes: ["docs", "chat"] };

const run = useApiFake(
  () =>
    new AirecFake({
      instances: [
        {
          instanceId: ADOPTED,
          regionId: "cn-hangzhou",
          status: "Running",
          scenes: ["docs"],
          dataSources: [{ tableName: "behavior", meta: { type: "ODPS", projectName: "acme", tableName: "bhv" } }],
        },
        { instanceId: "airec-cn-beijing001", regionId: "cn-beijing", status: "Running", dataSources: [] },
      ],
    }),
  airecFakeEnv,
);

describe("AIRec set-up against a local AIRec fake (signatures verified)", () => {
  it("adopts an existing instance: DescribeInstance, then creates only the missing scene", async () => {
    const setup = await setUpAirec(adopt, run.ctx());
    expect(setup).toEqual({
      instanceId: ADOPTED,
      status: "Running",
      sceneIds: ["docs", "chat"],
      createdScenes: ["chat"],
      dataSources: [{ table: "behavior", type: "ODPS" }],
    });
    expect(run.fake.http.violations).toEqual([]);
    expect(run.fake.http.actions()).toEqual(["DescribeInstance", "ListScenes", "CreateScene", "ListDataSource"]);
    const created = run.fake.http.requests.find((r) => r.headers["x-acs-action"] === "CreateScene");
    expect(created?.body).toEqual({
      sceneId: "chat",
      sceneMeta: { sceneName: "chat", description: "search-backbone recommendations" },
    });
    expect(run.lines[0]).toMatch(
      /AIRec instance airec-cn-o400whm78004 \(Running\): scenes docs, chat \(created chat\)/,
    );
  });

  it("is idempotent: a second run finds every scene and creates none", async () => {
    await setUpAirec(adopt, run.ctx());
    const before = run.fake.http.requests.length;
    const again = await setUpAirec(adopt, run.ctx());
    expect(again.createdScenes).toEqual([]);
    expect(run.fake.http.actions().slice(before)).toEqual(["DescribeInstance", "ListScenes", "ListDataSource"]);
    expect(run.fake.instances.get(ADOPTED)?.scenes.size).toBe(2);
  });

  it("refuses a missing instance id with an error naming the field and the value, and creates nothing", async () => {
    const missing = { ...adopt, instanceId: "airec-cn-doesnotexist" };
    await expect(setUpAirec(missing, run.ctx())).rejects.toThrow(
      /^instanceId: AIRec has no instance "airec-cn-doesnotexist" in cn-hangzhou \(InstanceNotFound\)/,
    );
    expect(run.fake.http.actions()).toEqual(["DescribeInstance"]);
    expect(run.fake.http.violations).toEqual([]);
  });

  it("refuses an instance of another region, naming both regions", async () => {
    await expect(describeInstance("cn-hangzhou", "airec-cn-beijing001", run.ctx())).rejects.toThrow(
      'instanceId: AIRec instance "airec-cn-beijing001" is in cn-beijing, but the stack\'s region is cn-hangzhou',
    );
  });

  it("buys a prepaid instance only in create mode, with the documented body, then sets its scenes up", async () => {
    const setup = await setUpAirec({ region: "cn-hangzhou", mode: "create", purchase, scenes: ["docs"] }, run.ctx());
    expect(setup.instanceId).toBe("airec-cn-fake1");
    expect(setup.status).toBe("Initializing");
    expect(run.fake.http.violations).toEqual([]);
    expect(run.fake.http.actions()).toEqual([
      "CreateInstance",
      "DescribeInstance",
      "ListScenes",
      "CreateScene",
      "ListDataSource",
    ]);
    expect(run.fake.instances.get("airec-cn-fake1")?.created).toEqual(createInstanceBody(purchase));
    expect(createInstanceBody(purchase)).toMatchObject({
      chargeType: "PrePaid",
      paymentInfo: { pricingCycle: "Month" },
    });
    expect(run.lines.join("\n")).toMatch(/bought \(prepaid.*destroy will leave it/);
    expect(run.lines.join("\n")).toMatch(/is Initializing: PushDocument is accepted once it runs/);
  });

  it("never buys in adopt mode, even for an unknown id", async () => {
    await expect(setUpAirec({ ...adopt, instanceId: "airec-cn-unknown1" }, run.ctx())).rejects.toThrow(/instanceId/);
    expect(run.fake.http.actions()).not.toContain("CreateInstance");
    expect(run.fake.instances.size).toBe(2);
  });

  it("keeps a bought instance in the error when a later step fails, so the engine records it", async () => {
    const failing = { region: "cn-beijing", mode: "create" as const, purchase, scenes: ["docs"] };
    // The fake puts bought instances in cn-hangzhou: DescribeInstance then fails the region check.
    const error = (await setUpAirec(failing, run.ctx()).catch((e) => e)) as Error & { id?: string; properties?: any };
    expect(error.message).toMatch(/is in cn-hangzhou, but the stack's region is cn-beijing/);
    expect(error.id).toBe("airec-cn-fake1");
    expect(error.properties).toMatchObject({ instanceId: "airec-cn-fake1", mode: "create", region: "cn-beijing" });
  });

  it("surfaces AIRec's error code and message, and a bad signature is refused", async () => {
    const badKey = { ...run.env, ALIBABA_CLOUD_ACCESS_KEY_SECRET: "wrong-secret" };
    await expect(setUpAirec(adopt, { env: badKey, progress: () => {} })).rejects.toThrow(
      /DescribeInstance failed \(HTTP 403, SignatureDoesNotMatch\): the signature does not match/,
    );
    expect(run.fake.http.violations).toEqual([
      "GET /v2/openapi/instances/airec-cn-o400whm78004: the signature does not match",
    ]);
  });

  it("reads credentials from the environment only, and says which variables are missing", async () => {
    await expect(setUpAirec(adopt, { env: { BACKBONE_AIREC_ENDPOINT: run.url } })).rejects.toThrow(
      /ALIBABA_CLOUD_ACCESS_KEY_ID/,
    );
    expect(run.fake.http.requests).toHaveLength(0);
    expect(FAKE_AK.id).toBe(run.env.ALIBABA_CLOUD_ACCESS_KEY_ID);
  });
});

describe("AIRec spec checks and diffs", () => {
  it("names field, value and expectation for every problem", () => {
    expect(airecSpecProblems({ region: "cn-shanghai", mode: "adopt", instanceId: "x", scenes: ["a:b"] })).toEqual([
      'region: expected a region with an AIRec VPC endpoint (cn-beijing, cn-hangzhou, cn-shenzhen, ap-southeast-1), got "cn-shanghai"',
      'instanceId: expected an AIRec instance id like airec-cn-o400whm78004, got "x"',
      'scenes[0]: expected 1-64 letters, digits, _ or -, got "a:b"',
    ]);
    expect(airecSpecProblems({ region: "cn-hangzhou", mode: "create", scenes: ["docs"] })).toEqual([
      "purchase: expected the edition, quota and payment of the instance to buy, got nothing",
    ]);
    expect(
      airecSpecProblems({
        region: "cn-hangzhou",
        mode: "create",
        purchase: { ...purchase, payment: { ...purchase.payment, duration: 11 } },
        scenes: ["docs"],
      }),
    ).toEqual(["purchase.payment.duration: expected one of 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, got 11"]);
    expect(airecSpecProblems(adopt)).toEqual([]);
  });

  it("replaces only for another instance: region, adopted id, or a mode switch to another instance", () => {
    const state = { ...adopt, status: "Running", sceneIds: ["docs"], dataSources: [], endpoint: "x" };
    expect(replacedProperties(state, { ...adopt, scenes: ["docs", "more"] })).toEqual([]);
    expect(replacedProperties(state, { ...adopt, instanceId: "airec-cn-other01" })).toEqual(["instanceId"]);
    expect(replacedProperties(state, { ...adopt, region: "cn-beijing" })).toEqual(["region"]);
    // A bought instance that is later adopted by its own id stays the same resource.
    const bought = { ...state, mode: "create" as const, instanceId: "airec-cn-fake1" };
    expect(replacedProperties(bought, { ...adopt, instanceId: "airec-cn-fake1" })).toEqual([]);
    expect(replacedProperties(bought, adopt)).toEqual(["mode"]);
  });

  it("points the orchestrator at the VPC endpoint", () => {
    expect(airecVpcEndpoint("cn-hangzhou")).toBe("airec-vpc.cn-hangzhou.aliyuncs.com");
  });
});
