import { describe, expect, it } from "vitest";
import { admits, INGRESS_RULES } from "../../components/network";
import { Serving } from "../../components/serving";
import { fleetId, hostSlots } from "../../components/serving/fleet";
import { configProperties, MAX_USER_DATA_BYTES, renderUserData } from "../../components/serving/user-data";
import { resolved, settle, setupMocks } from "../helpers/mocks";

const models = [
  { name: "embed", key: "models/embed/v1/embed.mar" },
  { name: "rerank", key: "models/rerank/v1/rerank.mar" },
];
const input = {
  region: "cn-hangzhou",
  bucket: "acme-dev-artifacts",
  ossEndpoint: "oss-cn-hangzhou-internal.aliyuncs.com",
  roleName: "acme-dev-serving",
  models,
  pipPackages: ["torch==2.5.1", "transformers==4.46.3"],
};

describe("serving user data", () => {
  const script = renderUserData(input);

  it("stays within the 16 KB ECS allows before Base64 encoding", () => {
    expect(Buffer.byteLength(script)).toBeLessThanOrEqual(MAX_USER_DATA_BYTES);
    const huge = { ...input, pipPackages: Array.from({ length: 2000 }, (_, i) => `pkg${i}==1.0.0`) };
    expect(() => renderUserData(huge)).toThrow(/ECS accepts at most 16384 before Base64 encoding/);
  });

  it("uses or installs the GPU driver, installs TorchServe 0.12.0, fetches the pinned archives with the role", () => {
    expect(script).toMatch(/if ! nvidia-smi .*\n.*dnf install/);
    expect(script).toContain("torchserve==0.12.0 torch-model-archiver==0.12.0");
    expect(script).toContain("fetch models/embed/v1/embed.mar /opt/torchserve/model-store/embed.mar");
    expect(script).toContain("fetch models/rerank/v1/rerank.mar /opt/torchserve/model-store/rerank.mar");
    expect(script).toContain("meta-data/ram/security-credentials/acme-dev-serving");
    expect(script).toContain('"https://oss-cn-hangzhou-internal.aliyuncs.com", "acme-dev-artifacts"');
    // No key ever appears in user data (it is readable from the instance metadata).
    expect(script).not.toMatch(/AccessKeySecret"\]\s*=|LTAI|sk-/);
    expect(script).toContain("User=torchserve");
  });

  it("starts TorchServe with the safe configuration: management and gRPC on loopback, inference on the private address", () => {
    const config = configProperties(models);
    expect(config).toContain("inference_address=http://PRIVATE_IP:8080");
    expect(config).toContain("management_address=http://127.0.0.1:8081");
    expect(config).toContain("grpc_inference_address=127.0.0.1");
    expect(config).toContain("enable_model_api=false");
    expect(config).toContain("disable_token_authorization=true");
    expect(config).toContain("max_request_size=16777216");
    expect(config).toContain("load_models=embed.mar,rerank.mar");
    expect(config).not.toContain("0.0.0.0");
    expect(script).toContain('sed -i "s/PRIVATE_IP/$PRIVATE_IP/g"');
  });

  it("refuses values that could break out of the script", () => {
    expect(() => renderUserData({ ...input, bucket: "x; rm -rf /" })).toThrow(/unsafe/);
    expect(() => renderUserData({ ...input, models: [{ name: "embed", key: "models/../etc/passwd" }] })).toThrow(
      /unsafe/,
    );
    expect(() => renderUserData({ ...input, models: [] })).toThrow(/no models/);
  });
});

describe("gpu security group", () => {
  it("admits inference and metrics from the VPC only, and never the management port", () => {
    for (const rule of INGRESS_RULES.gpu) expect(rule.source).toBe("vpc");
    expect(INGRESS_RULES.gpu.some((r) => admits(r, "tcp", 8080))).toBe(true);
    expect(INGRESS_RULES.gpu.some((r) => admits(r, "tcp", 8081))).toBe(false);
    expect(INGRESS_RULES.gpu.some((r) => admits(r, "tcp", 22))).toBe(false);
  });
});

describe("fleet naming orders a replacement", () => {
  it("a new model version gives every host a new name; an unchanged one keeps them", () => {
    const a = fleetId({ models, type: "ecs.gn7i-c8g1.2xlarge" });
    expect(fleetId({ models, type: "ecs.gn7i-c8g1.2xlarge" })).toBe(a);
    const b = fleetId({
      models: [models[0], { name: "rerank", key: "models/rerank/v2/rerank.mar" }],
      type: "ecs.gn7i-c8g1.2xlarge",
    });
    expect(b).not.toBe(a);
    expect(hostSlots(3, 2, a).map((s) => [s.key, s.vswitch])).toEqual([
      [`${a}-0`, 0],
      [`${a}-1`, 1],
      [`${a}-2`, 0],
    ]);
  });
});

async function serve(version: string) {
  const recorder = await setupMocks();
  const serving = new Serving("serving", {
    cloudName: "acme-dev",
    region: "cn-hangzhou",
    gpu: { instanceType: "ecs.gn7i-c8g1.2xlarge", count: 2, spot: true, diskSizeGb: 100 },
    vpcId: "vpc-1",
    vswitchIds: ["vsw-h", "vsw-i"],
    zoneIds: ["cn-hangzhou-h", "cn-hangzhou-i"],
    vswitchCount: 2,
    securityGroupId: "sg-gpu",
    roleName: "acme-dev-serving",
    artifactsBucket: "acme-dev-artifacts",
    ossEndpoint: "oss-cn-hangzhou-internal.aliyuncs.com",
    models: [{ name: "embed", key: `models/embed/${version}/embed.mar` }],
    pipPackages: [],
    tags: { project: "search-backbone" },
  });
  await resolved(serving.baseUrl);
  await settle();
  return { recorder, serving };
}

describe("Serving under the mock runtime", () => {
  it("puts spot gn7i hosts without public addresses, with the serving role, behind an internal NLB", async () => {
    const { recorder, serving } = await serve("v1");
    const hosts = recorder.ofType("alicloud:ecs/instance:Instance");
    expect(hosts).toHaveLength(2);
    for (const host of hosts) {
      expect(host.inputs).toMatchObject({
        instanceType: "ecs.gn7i-c8g1.2xlarge",
        spotStrategy: "SpotAsPriceGo",
        internetMaxBandwidthOut: 0,
        roleName: "acme-dev-serving",
        securityGroups: ["sg-gpu"],
        systemDiskSize: 100,
      });
      expect(Buffer.byteLength(host.inputs.userData)).toBeLessThanOrEqual(MAX_USER_DATA_BYTES);
    }
    expect(hosts.map((h) => h.inputs.vswitchId).sort()).toEqual(["vsw-h", "vsw-i"]);
    const lb = recorder.one("alicloud:nlb/loadBalancer:LoadBalancer");
    expect(lb.inputs.addressType).toBe("Intranet");
    expect(lb.inputs.zoneMappings).toHaveLength(2);
    expect(recorder.one("alicloud:nlb/listener:Listener").inputs).toMatchObject({
      listenerProtocol: "TCP",
      listenerPort: 8080,
    });
    expect(await resolved(serving.baseUrl)).toMatch(/^http:\/\/.*:8080$/);
  });

  it("health-checks each host on TorchServe's /ping", async () => {
    const { recorder } = await serve("v1");
    expect(recorder.one("alicloud:nlb/serverGroup:ServerGroup").inputs.healthCheck).toMatchObject({
      healthCheckEnabled: true,
      healthCheckType: "HTTP",
      healthCheckUrl: "/ping",
      httpCheckMethod: "GET",
      healthCheckConnectPort: 8080,
      healthCheckHttpCodes: ["http_2xx"],
    });
    const attachments = recorder.ofType("alicloud:nlb/serverGroupServerAttachment:ServerGroupServerAttachment");
    expect(attachments).toHaveLength(2);
    for (const a of attachments) expect(a.inputs).toMatchObject({ serverType: "Ecs", port: 8080 });
  });

  it("replaces hosts new-before-old when the model version changes", async () => {
    const v1 = (await serve("v1")).recorder.ofType("alicloud:ecs/instance:Instance").map((h) => h.name);
    const v2 = (await serve("v2")).recorder.ofType("alicloud:ecs/instance:Instance").map((h) => h.name);
    // Disjoint names: the engine creates the v2 hosts (and attachments) first and deletes the v1 ones last.
    expect(v1.filter((name) => v2.includes(name))).toEqual([]);
    const again = (await serve("v1")).recorder.ofType("alicloud:ecs/instance:Instance").map((h) => h.name);
    expect(again).toEqual(v1);
  });
});
