import { describe, expect, it } from "vitest";
import { Recommendations } from "../../components/recommendations";
import { ConfigError } from "../../stacks/config";
import { resolved, settle, setupMocks, TEST_ACCOUNT_ID } from "../helpers/mocks";
import { runProgram } from "../helpers/program";
import { ephemeralStackText, readRepoFile } from "../helpers/stack-files";

const AIREC = "pulumi-nodejs:dynamic/backbone-airec:Instance";
const COMPONENT = "backbone:recommendations:Recommendations";
const INSTANCE = "airec-cn-o400whm78004";
const ARN = `acs:airec:cn-hangzhou:${TEST_ACCOUNT_ID}:instance/${INSTANCE}`;

const evaluate = runProgram;

const withAirec = (text: string, airec: string) =>
  text
    .replace('    airec:\n      mode: "off"\n', `    airec:\n${airec}`)
    .concat(
      text.includes("search-backbone:recommendations:")
        ? ""
        : `  search-backbone:recommendations:\n    airec:\n${airec}`,
    );

const adopt = `      mode: adopt\n      instanceId: ${INSTANCE}\n      scenes: [docs, related]\n`;
const orchestratorPolicy = (recorder: Awaited<ReturnType<typeof evaluate>>["recorder"]) =>
  recorder.one("alicloud:ram/policy:Policy", "-orchestrator-policy").inputs.policyDocument as string;

describe("AIRec in the stack, per config", () => {
  it("off (the dev and prod files): no AIRec resource, an undefined output, no AIRec grants", async () => {
    for (const [stack, file] of [
      ["dev", "Pulumi.dev.yaml"],
      ["prod", "Pulumi.prod.yaml"],
    ] as const) {
      const { recorder, outputs, error } = await evaluate(stack, readRepoFile(file));
      expect(error).toBeUndefined();
      expect(recorder.ofType(AIREC)).toEqual([]);
      expect(recorder.ofType(COMPONENT)).toEqual([]);
      expect(await resolved(outputs.recommendations.airec)).toBeUndefined();
      expect(orchestratorPolicy(recorder)).not.toContain("airec:");
      expect(await resolved(outputs.deployerPolicy)).not.toContain("airec:");
    }
  });

  it("adopt: one AirecInstance under the component, the orchestrator and deployer granted on that instance only", async () => {
    const { recorder, outputs, error } = await evaluate("dev", withAirec(readRepoFile("Pulumi.dev.yaml"), adopt));
    expect(error).toBeUndefined();
    const component = recorder.one(COMPONENT);
    const instance = recorder.one(AIREC);
    expect(instance.name).toBe("recommendations-airec");
    expect(instance.parent).toBe(component.urn);
    expect(instance.protect).toBe(false);
    expect(instance.inputs).toMatchObject({
      region: "cn-hangzhou",
      mode: "adopt",
      instanceId: INSTANCE,
      scenes: ["docs", "related"],
    });
    expect(instance.inputs.purchase).toBeUndefined();
    expect(await resolved(outputs.recommendations.airec)).toEqual({
      instanceId: INSTANCE,
      sceneId: "docs",
      sceneIds: ["docs", "related"],
      endpoint: "airec-vpc.cn-hangzhou.aliyuncs.com",
      region: "cn-hangzhou",
    });
    const orchestrator = JSON.parse(orchestratorPolicy(recorder));
    expect(orchestrator.Statement).toContainEqual({
      Effect: "Allow",
      Action: ["airec:Recommend", "airec:PushDocument"],
      Resource: [ARN],
    });
    const deployer = JSON.parse(await resolved(outputs.deployerPolicy));
    expect(deployer.Statement).toContainEqual({
      Effect: "Allow",
      Action: ["airec:DescribeInstance", "airec:ListScenes", "airec:CreateScene", "airec:ListDataSource"],
      Resource: [ARN],
    });
  });

  it("create (confirmed): the purchase goes to the resource, the deployer may buy in its region", async () => {
    const create = "      mode: create\n      confirmPurchase: true\n";
    const { recorder, outputs, error } = await evaluate("dev", withAirec(readRepoFile("Pulumi.dev.yaml"), create));
    expect(error).toBeUndefined();
    const instance = recorder.one(AIREC);
    expect(instance.inputs).toMatchObject({ mode: "create", scenes: ["docs"] });
    expect(instance.inputs.purchase).toMatchObject({
      edition: "Algorithm Configuration Edition",
      payment: { duration: 1, pricingCycle: "Month", autoRenew: false },
    });
    const deployer = await resolved(outputs.deployerPolicy);
    expect(deployer).toContain("airec:CreateInstance");
    expect(deployer).toContain(`acs:airec:cn-hangzhou:${TEST_ACCOUNT_ID}:instance/*`);
  });

  it("an ephemeral stack with AIRec on stops before registering anything, naming the key", async () => {
    const { recorder, error } = await evaluate("pr-42", withAirec(ephemeralStackText(), adopt));
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(
      'search-backbone:recommendations.airec.mode: given "adopt"; expected "off" in an ephemeral stack',
    );
    expect(recorder.resources).toEqual([]);
  });

  it("prod protects the instance (the component passes protect to it)", async () => {
    const recorder = await setupMocks({ stack: "prod" });
    new Recommendations("recommendations", {
      region: "cn-hangzhou",
      settings: { mode: "adopt", instanceId: INSTANCE, scenes: ["docs"] },
      protect: true,
    });
    await settle();
    expect(recorder.one(AIREC).protect).toBe(true);
  });

  it("the component refuses settings the resource would refuse, attributed to itself", async () => {
    await setupMocks({ stack: "dev" });
    expect(
      () =>
        new Recommendations("recommendations", {
          region: "cn-shanghai",
          settings: { mode: "adopt", instanceId: INSTANCE, scenes: ["docs"] },
          protect: false,
        }),
    ).toThrow(/region: expected a region with an AIRec VPC endpoint .*got "cn-shanghai"/);
  });
});
