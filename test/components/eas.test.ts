import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  configFingerprint,
  type EasServiceSpec,
  normaliseEndpoint,
  renderServiceConfig,
  rolloutVerdict,
  serviceSpecProblems,
} from "../../components/eas";

const SPEC: EasServiceSpec = {
  name: "acme_search_dev_chat",
  workspaceId: "123456",
  image: "eas-registry-vpc.cn-hangzhou.cr.aliyuncs.com/pai-eas/vllm:v0.8.5",
  command: "vllm serve /mnt/model --port 8000",
  port: 8000,
  instanceType: "ecs.gn7i-c8g1.2xlarge",
  replicas: { min: 1, max: 3, targetQps: 5 },
  modelPath: "oss://acme-search-dev-artifacts/models/llm/v1/",
  mountPath: "/mnt/model",
  network: { vpcId: "vpc-abc123", vswitchId: "vsw-abc123", securityGroupId: "sg-abc123" },
  healthCheck: { path: "/health", initialDelaySeconds: 60 },
  publicEndpoint: false,
};

describe("EAS serviceConfig rendering", () => {
  it("renders the image, instance type, replicas and autoscaler, read-only model mount, VPC-only access and health check", () => {
    const config = renderServiceConfig(SPEC) as Record<string, any>;
    expect(config.metadata).toEqual({
      name: SPEC.name,
      workspace_id: "123456",
      instance: 1,
      rolling_strategy: { max_surge: 1, max_unavailable: 0 },
    });
    expect(config.cloud).toEqual({
      computing: { instances: [{ type: "ecs.gn7i-c8g1.2xlarge" }] },
      networking: { vpc_id: "vpc-abc123", vswitch_id: "vsw-abc123", security_group_id: "sg-abc123" },
    });
    expect(config.networking).toEqual({ disable_internet_endpoint: true });
    expect(config.autoscaler).toEqual({ min: 1, max: 3, scaleStrategies: [{ metricName: "qps", threshold: 5 }] });
    expect(config.storage).toEqual([
      { oss: { path: "oss://acme-search-dev-artifacts/models/llm/v1/", readOnly: true }, mount_path: "/mnt/model" },
    ]);
    expect(config.containers[0]).toMatchObject({
      image: SPEC.image,
      port: 8000,
      readiness_check: { http_get: { path: "/health", port: 8000 } },
    });
  });

  it("puts a dedicated resource group in metadata.resource instead of public instance types", () => {
    const config = renderServiceConfig({ ...SPEC, resourceGroup: "eas-r-abc123" }) as Record<string, any>;
    expect(config.metadata.resource).toBe("eas-r-abc123");
    expect(config.cloud.computing).toBeUndefined();
    expect(config.cloud.networking.vswitch_id).toBe("vsw-abc123");
  });

  it("leaves the autoscaler out at a fixed replica count", () => {
    const config = renderServiceConfig({ ...SPEC, replicas: { min: 2, max: 2 } }) as Record<string, any>;
    expect(config.autoscaler).toBeUndefined();
    expect(config.metadata.instance).toBe(2);
  });

  it.each([
    [
      "a bad instance type",
      { instanceType: "gn7i.large" },
      'instanceType: got "gn7i.large"; expected an EAS instance type',
    ],
    [
      "a public endpoint",
      { publicEndpoint: true },
      "publicEndpoint: got true; expected false: EAS services are reached from the stack's VPC only",
    ],
    ["a missing model path", { modelPath: "" }, 'modelPath: got ""; expected the model\'s oss://bucket/prefix/'],
    [
      "replicas over the maximum",
      { replicas: { min: 1, max: 101, targetQps: 5 } },
      "replicas.max: got 101; expected a whole number <= 100",
    ],
    [
      "max below min",
      { replicas: { min: 3, max: 2, targetQps: 5 } },
      "replicas.max: got 2; expected at least replicas.min (3)",
    ],
    [
      "autoscaling without a target",
      { replicas: { min: 1, max: 2 } },
      "replicas.targetQps: got undefined; expected a QPS target",
    ],
    [
      "no vSwitch",
      { network: { ...SPEC.network, vswitchId: "" } },
      'network.vswitchId: got ""; expected one of the stack\'s vSwitch ids',
    ],
  ])("refuses %s, naming field, value and expectation", (_case, change, message) => {
    const spec = { ...SPEC, ...change } as EasServiceSpec;
    expect(serviceSpecProblems(spec).join("; ")).toContain(message);
    expect(() => renderServiceConfig(spec)).toThrow(message);
  });

  it("never renders a config with internet access, for any replica counts it accepts", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100 }), fc.integer({ min: 1, max: 100 }), (a, b) => {
        const replicas = { min: Math.min(a, b), max: Math.max(a, b), targetQps: 1 };
        const config = renderServiceConfig({ ...SPEC, replicas }) as Record<string, any>;
        return config.networking.disable_internet_endpoint === true && config.storage[0].oss.readOnly === true;
      }),
    );
  });
});

describe("EAS rollout verdict (DescribeService)", () => {
  const config = renderServiceConfig(SPEC);
  const fingerprint = configFingerprint(config);
  const described = (fields: Record<string, unknown>) => ({ ServiceConfig: JSON.stringify(config), ...fields });

  it("is ready only when EAS runs this version", () => {
    expect(rolloutVerdict(described({ Status: "Running" }), fingerprint, configFingerprint)).toEqual({ kind: "ready" });
    const old = { ...config, containers: [{ image: "old:1" }] };
    expect(
      rolloutVerdict({ Status: "Running", ServiceConfig: JSON.stringify(old) }, fingerprint, configFingerprint).kind,
    ).toBe("waiting");
    expect(rolloutVerdict(undefined, fingerprint, configFingerprint).kind).toBe("waiting");
    expect(rolloutVerdict(described({ Status: "Updating" }), fingerprint, configFingerprint).kind).toBe("waiting");
  });

  it("fails with EAS's reason and message", () => {
    const verdict = rolloutVerdict(
      described({ Status: "Failed", Reason: "ImagePullFailed", Message: "pull access denied" }),
      fingerprint,
      configFingerprint,
    );
    expect(verdict).toEqual({ kind: "failed", reason: "Failed: ImagePullFailed: pull access denied" });
  });

  it("gives the VPC address with a scheme", () => {
    expect(normaliseEndpoint("123.vpc.cn-hangzhou.pai-eas.aliyuncs.com/api/predict/x/")).toBe(
      "http://123.vpc.cn-hangzhou.pai-eas.aliyuncs.com/api/predict/x",
    );
  });
});
