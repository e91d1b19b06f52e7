import * as pulumi from "@pulumi/pulumi";
import { policies } from "search-backbone-policy/policies";
import { describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { sha256Hex } from "../../components/orchestrator";
import { ConfigError } from "../../stacks/config";
import { resolved } from "../helpers/mocks";
import { runProgram } from "../helpers/program";
import { engineConfigFor, ephemeralStackText, readRepoFile } from "../helpers/stack-files";
import { runPolicy } from "../policy/run-policy";

/**
 * The whole program with the orchestrator enabled, under the mock runtime (no Docker engine here:
 * the docker.Image is registered, and the mocks answer its digest).
 */

const DASHSCOPE_KEY = "sk-orchestrator-chat-key";
const REGISTRY_PASSWORD = "Registry-Pa55word";

/** A stack file with the orchestrator's keys added, as `pulumi config set --path` would write them. */
function withOrchestrator(text: string, orchestrator: Record<string, unknown>): string {
  const stack = parse(text);
  stack.config["search-backbone:orchestrator"] = orchestrator;
  return stringify(stack);
}

const ENABLED = {
  enabled: true,
  dashscopeApiKey: DASHSCOPE_KEY,
  apiKeys: [{ id: "web", sha256: sha256Hex("caller-key") }],
  image: { username: "acme-pusher", password: REGISTRY_PASSWORD },
};

async function evaluate(stack: string, text: string) {
  const { recorder, outputs, error } = await runProgram(stack, text);
  if (error) throw error;
  return { recorder, outputs };
}

const TYPES = {
  image: "docker:index/image:Image",
  deployment: "kubernetes:apps/v1:Deployment",
  hpa: "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
  account: "kubernetes:core/v1:ServiceAccount",
};

describe("the stack registers the orchestrator", () => {
  it.each([
    ["dev", () => readRepoFile("Pulumi.dev.yaml")],
    ["pr-42", () => ephemeralStackText()],
  ])("stack %s: image, Deployment, Service, HPA, PDB, ConfigMap, Secret and ServiceAccount", async (stack, text) => {
    const { recorder, outputs } = await evaluate(stack, withOrchestrator(text(), ENABLED));
    const component = recorder.one("backbone:orchestrator:Orchestrator");
    const children = recorder.resources.filter((r) => r.parent === component.urn);
    const types = children.map((r) => r.type);
    for (const type of [
      TYPES.image,
      TYPES.deployment,
      "kubernetes:core/v1:Service",
      TYPES.hpa,
      "kubernetes:policy/v1:PodDisruptionBudget",
      "kubernetes:core/v1:ConfigMap",
      "kubernetes:core/v1:Secret",
      TYPES.account,
      "kubernetes:core/v1:Namespace",
    ]) {
      expect(
        types.filter((t) => t === type),
        type,
      ).toHaveLength(1);
    }
    // The service account is the one the orchestrator role trusts, annotated with that role's name.
    const account = recorder.one(TYPES.account, "orchestrator-account").inputs.metadata;
    expect(account).toMatchObject({ name: "orchestrator", namespace: "search-backbone" });
    expect(account.annotations["pod-identity.alibabacloud.com/role-name"]).toMatch(/-orchestrator$/);
    // Pushed to the stack's registry (Internet host), run from its VPC host by digest.
    const image = recorder.one(TYPES.image);
    expect(image.inputs.build).toMatchObject({
      context: ".",
      dockerfile: "k8s/orchestrator/Dockerfile",
      platform: "linux/amd64",
    });
    expect(image.inputs.imageName).toMatch(/^registry\.cn-hangzhou\.aliyuncs\.com\/[a-z-]+\/orchestrator:0\.1\.0-/);
    const ref = await resolved(outputs.orchestrator!.imageRef);
    expect(ref).toMatch(/^registry-vpc\.cn-hangzhou\.aliyuncs\.com\/[a-z-]+\/orchestrator@sha256:/);
    expect(await resolved(outputs.orchestrator!.serviceUrl)).toMatch(/\.search-backbone\.svc\.cluster\.local:8080$/);
    // Rolled out after the search setup Job and the TorchServe hosts (matched by name: the mock
    // recorder's URNs carry one parent type, the engine's the whole chain).
    const deps = recorder.one(TYPES.deployment, "orchestrator-deployment").dependencies;
    const named = (name: string) => deps.some((urn) => urn.endsWith(`::${name}`));
    expect(named(recorder.one("kubernetes:batch/v1:Job").name)).toBe(true);
    const hosts = recorder.resources.filter((r) => r.custom && r.name.startsWith("models-serving-")).map((r) => r.name);
    expect(hosts.length).toBeGreaterThan(0);
    expect(hosts.some(named)).toBe(true);
    // The ConfigMap carries the stack's outputs; no secret leaks into it.
    const data = recorder.one("kubernetes:core/v1:ConfigMap", "orchestrator-config").inputs.data;
    expect(data.OSS_BUCKET).toBe(`acme-search-${stack}-docs`);
    expect(data.EVENT_LOG_PREFIX).toBe("logs/events/");
    // Chat turns are recorded by default, under logs/ like the events (orchestrator.chatLog).
    expect([data.CHAT_LOG_ENABLED, data.CHAT_LOG_PREFIX]).toEqual(["true", "logs/chat/"]);
    expect(data.DASHSCOPE_BASE_URL).toBe("https://dashscope.aliyuncs.com/compatible-mode/v1");
    expect(JSON.parse(data["endpoints.json"]).embedding.url).toMatch(/^http:\/\/.+\/predictions\/embed$/);
    // Queries are embedded by the endpoint the search jobs embedded the documents with.
    const jobs = recorder.one("kubernetes:core/v1:ConfigMap", "search-jobs-settings").inputs.data;
    for (const role of ["embedding", "rerank"])
      expect(JSON.parse(jobs["endpoints.json"])[role].url).toBe(JSON.parse(data["endpoints.json"])[role].url);
    expect(JSON.stringify(data)).not.toContain(DASHSCOPE_KEY);
    const secret = recorder.one("kubernetes:core/v1:Secret", "orchestrator-secrets").inputs.stringData;
    expect(secret[pulumi.runtime.specialSigKey]).toBe(pulumi.runtime.specialSecretSig);
    expect(secret.value.DASHSCOPE_API_KEY).toBe(DASHSCOPE_KEY);
    const registry = recorder.one(TYPES.image).inputs.registry;
    expect(JSON.stringify(registry)).toContain(pulumi.runtime.specialSecretSig);
  });

  it("gives the orchestrator's Secret the reader engine user, and no admin credential of either engine", async () => {
    const { recorder } = await evaluate("dev", withOrchestrator(readRepoFile("Pulumi.dev.yaml"), ENABLED));
    const plain = (value: any) => (value?.[pulumi.runtime.specialSigKey] ? value.value : value);
    const secret = plain(recorder.one("kubernetes:core/v1:Secret", "orchestrator-secrets").inputs.stringData);
    const alias = recorder.one("kubernetes:core/v1:ConfigMap", "orchestrator-config").inputs.data.INDEX_ALIAS;
    const reader = plain(recorder.one("kubernetes:core/v1:Secret", "search-jobs-reader").inputs.stringData);
    expect(secret).toMatchObject({
      ELASTICSEARCH_USERNAME: `${alias}-reader`,
      OPENSEARCH_USERNAME: `${alias}-reader`,
      ELASTICSEARCH_PASSWORD: reader.password,
      OPENSEARCH_PASSWORD: reader.password,
    });
    // The admins' credentials, wherever the stack keeps them, appear nowhere in the Secret.
    const admins = [
      plain(recorder.one("alicloud:elasticsearch/instance:Instance").inputs.password),
      plain(recorder.one("kubernetes:core/v1:Secret", "search-opensearch-admin").inputs.stringData).password,
      plain(recorder.one("kubernetes:core/v1:Secret", "search-jobs-elasticsearch").inputs.stringData).password,
    ];
    for (const password of admins) expect(typeof password === "string" && password.length > 0).toBe(true);
    const text = JSON.stringify(secret);
    for (const credential of [...admins, "elastic", '"admin"']) expect(text).not.toContain(credential);
    expect(text).not.toContain(
      plain(recorder.one("kubernetes:core/v1:Secret", "search-jobs-writer").inputs.stringData).password,
    );
  });

  it("points the service at AIRec when the stack adopts an instance, and at the backbone alone otherwise", async () => {
    const dev = withOrchestrator(readRepoFile("Pulumi.dev.yaml"), ENABLED);
    const airecData = async (text: string) => {
      const { recorder } = await evaluate("dev", text);
      return recorder.one("kubernetes:core/v1:ConfigMap", "orchestrator-config").inputs.data;
    };
    expect(await airecData(dev)).toMatchObject({ AIREC_ENABLED: "false" });
    const adopted = parse(dev);
    adopted.config["search-backbone:recommendations"] = {
      airec: { mode: "adopt", instanceId: "airec-cn-o400whm78004", scenes: ["docs", "related"] },
    };
    const data = await airecData(stringify(adopted));
    expect(data).toMatchObject({
      AIREC_ENABLED: "true",
      AIREC_INSTANCE_ID: "airec-cn-o400whm78004",
      AIREC_SCENE_ID: "docs",
      AIREC_ENDPOINT: `airec-vpc.${adopted.config["search-backbone:region"]}.aliyuncs.com`,
    });
  });

  it("passes the backpressure settings to the service when the stack sets them, and leaves its defaults otherwise", async () => {
    const data = async (orchestrator: Record<string, unknown>) => {
      const { recorder } = await evaluate("dev", withOrchestrator(readRepoFile("Pulumi.dev.yaml"), orchestrator));
      return recorder.one("kubernetes:core/v1:ConfigMap", "orchestrator-config").inputs.data;
    };
    const unset = await data(ENABLED);
    for (const name of [
      "UPSTREAM_IDLE_TIMEOUT_MS",
      "ENGINE_MAX_IN_FLIGHT",
      "MODEL_MAX_IN_FLIGHT",
      "DEPENDENCY_QUEUE_LENGTH",
    ])
      expect(unset, name).not.toHaveProperty(name);
    const set = await data({
      ...ENABLED,
      upstreamIdleTimeoutMs: 30000,
      dependencyLimits: { engineInFlight: 8, modelInFlight: 16, queue: 0 },
    });
    expect(set).toMatchObject({
      UPSTREAM_IDLE_TIMEOUT_MS: "30000",
      ENGINE_MAX_IN_FLIGHT: "8",
      MODEL_MAX_IN_FLIGHT: "16",
      DEPENDENCY_QUEUE_LENGTH: "0",
    });
  });

  it("prod (ACR Enterprise) pushes with a temporary token when no credentials are configured", async () => {
    const { image: _, ...noCredentials } = ENABLED;
    const { recorder } = await evaluate("prod", withOrchestrator(readRepoFile("Pulumi.prod.yaml"), noCredentials));
    const registry = recorder.one(TYPES.image).inputs.registry;
    const password = registry.password ?? registry.value?.password;
    expect(JSON.stringify(password)).toContain("temporary-registry-token");
    expect(JSON.stringify(registry)).toContain(pulumi.runtime.specialSecretSig);
    expect(recorder.one(TYPES.hpa).inputs.spec).toMatchObject({ minReplicas: 3, maxReplicas: 12 });
  });

  it("passes the policy pack's mandatory rules with the orchestrator on", async () => {
    const text = withOrchestrator(readRepoFile("Pulumi.dev.yaml"), ENABLED);
    const { recorder } = await evaluate("dev", text);
    const resources = recorder.resources.map((r) => ({
      type: r.type,
      name: r.name,
      props: r.inputs,
      protect: r.protect,
    }));
    const violations: Record<string, string[]> = {};
    for (const policy of policies.filter((p) => p.enforcementLevel === "mandatory")) {
      const found = await runPolicy(policy, resources, { stackConfig: engineConfigFor(text) });
      if (found.length > 0) violations[policy.name] = found;
    }
    expect(violations).toEqual({});
  });

  it("the stack files as committed leave it off", async () => {
    const { recorder, outputs } = await evaluate("dev", readRepoFile("Pulumi.dev.yaml"));
    expect(recorder.ofType("backbone:orchestrator:Orchestrator")).toEqual([]);
    expect(outputs.orchestrator).toBeUndefined();
  });
});

describe("bad orchestrator config stops the program before any resource", () => {
  it("lists every problem with its key", async () => {
    const text = withOrchestrator(readRepoFile("Pulumi.dev.yaml"), {
      enabled: true,
      apiKeys: [],
      replicas: { min: 4, max: 2 },
      ingress: { enabled: true },
      resources: { requests: { cpu: "500m", memory: "2Gi" }, limits: { memory: "1Gi" } },
      dependencyLimits: { engineInFlight: 0, modelInFlight: 4 },
    });
    const { recorder, error } = await runProgram("dev", text);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => p.path.join("."))).toEqual(
      expect.arrayContaining([
        "orchestrator.apiKeys",
        "orchestrator.dashscopeApiKey",
        "orchestrator.replicas.min",
        "orchestrator.ingress.host",
        "orchestrator.resources.limits.memory",
        "orchestrator.image.password",
        "orchestrator.dependencyLimits.engineInFlight",
        "orchestrator.dependencyLimits.queue",
      ]),
    );
    expect(recorder.resources).toEqual([]);
  });
});
