import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { torchserveEndpoint } from "../../components/model-endpoints";
import {
  Orchestrator,
  type OrchestratorArgs,
  RRSA_INJECTION_LABEL,
  RRSA_ROLE_ANNOTATION,
  sha256Hex,
} from "../../components/orchestrator";
import { type MockRecorder, resolved, settle, setupMocks } from "../helpers/mocks";
import { PROFILE } from "../search/profile-fixtures";
import { SETTINGS } from "./orchestrator-fixtures";

/** The cluster's provider, as the stack passes it: through the component's opts. */
const kubernetes = (): pulumi.ComponentResourceOptions => ({
  providers: [new k8s.Provider("k8s", { kubeconfig: "{}" })],
});

/**
 * The component under Pulumi's mock runtime. No Docker engine runs here: the docker.Image is only
 * registered, and the mocks answer its repoDigest (test/helpers/mocks.ts).
 */

let mocks: MockRecorder;
beforeEach(async () => {
  mocks = await setupMocks();
});
afterEach(async () => {
  await settle();
});

const KEY_HASH = sha256Hex("caller-key-1");
const SECRETS = {
  dashscope: "sk-dashscope-test-key",
  es: "es-Password-1",
  os: "os-Password-2",
  registry: "registry-Password-3",
};

function args(change: Partial<OrchestratorArgs> = {}, after: pulumi.Resource[] = []): OrchestratorArgs {
  return {
    namespace: "search-backbone",
    serviceAccountName: "orchestrator",
    roleName: "acme-dev-orchestrator",
    image: {
      context: "/repo/k8s",
      dockerfile: "/repo/k8s/orchestrator/Dockerfile",
      tag: "0.1.0-0123456789ab",
      pushRepository: "registry.cn-hangzhou.aliyuncs.com/acme/orchestrator",
      pullRepository: "registry-vpc.cn-hangzhou.aliyuncs.com/acme/orchestrator",
      registry: { server: "registry.cn-hangzhou.aliyuncs.com", username: "pusher", password: SECRETS.registry },
    },
    profile: PROFILE,
    modelEndpoints: {
      embedding: torchserveEndpoint("http://nlb.internal:8080", "embedding", "embed", 768),
      rerank: torchserveEndpoint("http://nlb.internal:8080", "rerank", "rerank"),
    },
    search: {
      indexAlias: "chunks",
      elasticsearch: { url: "https://es.internal:9200", username: "elastic", password: SECRETS.es },
      opensearch: {
        url: "https://search-opensearch.search.svc:9200",
        username: "admin",
        password: SECRETS.os,
        caCertPem: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
      },
    },
    oss: { bucket: "acme-dev-docs", region: "cn-hangzhou", endpoint: "oss-cn-hangzhou-internal.aliyuncs.com" },
    prefixes: { raw: "raw/", events: "logs/events/", recs: "logs/recs-events/", chat: "logs/chat/" },
    dashscopeApiKey: SECRETS.dashscope,
    apiKeys: [{ id: "web", sha256: KEY_HASH }],
    settings: SETTINGS,
    vswitchIds: ["vsw-a", "vsw-b"],
    after,
    ...change,
  };
}

const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const isSecret = (value: unknown) =>
  typeof value === "object" &&
  value !== null &&
  (value as Record<string, unknown>)[pulumi.runtime.specialSigKey] === pulumi.runtime.specialSecretSig;
const unwrap = (value: any) => (isSecret(value) ? value.value : value);

describe("Orchestrator component", () => {
  it("builds for linux/amd64 from the k8s/ context, pushes with a secret password, runs the digest from the VPC host", async () => {
    const o = new Orchestrator("orchestrator", args(), kubernetes());
    await settle();
    const image = mocks.one("docker:index/image:Image");
    expect(image.parent).toBe(mocks.one("backbone:orchestrator:Orchestrator").urn);
    expect(image.inputs.imageName).toBe("registry.cn-hangzhou.aliyuncs.com/acme/orchestrator:0.1.0-0123456789ab");
    expect(image.inputs.build).toMatchObject({
      context: "/repo/k8s",
      dockerfile: "/repo/k8s/orchestrator/Dockerfile",
      platform: "linux/amd64",
    });
    expect(isSecret(image.inputs.registry.password) || isSecret(image.inputs.registry)).toBe(true);
    const ref = await resolved(o.imageRef);
    expect(ref).toBe(`registry-vpc.cn-hangzhou.aliyuncs.com/acme/orchestrator@sha256:${"ab".repeat(32)}`);
    expect(mocks.one(DEPLOYMENT).inputs.spec.template.spec.containers[0].image).toBe(ref);
  });

  it("a namespace labelled for RRSA injection and a service account annotated with the role", async () => {
    new Orchestrator("orchestrator", args(), kubernetes());
    await settle();
    const ns = mocks.one("kubernetes:core/v1:Namespace");
    expect(ns.inputs.metadata.name).toBe("search-backbone");
    expect(ns.inputs.metadata.labels[RRSA_INJECTION_LABEL]).toBe("on");
    const account = mocks.one("kubernetes:core/v1:ServiceAccount");
    expect(account.inputs.metadata).toMatchObject({
      name: "orchestrator",
      namespace: "search-backbone",
      annotations: { [RRSA_ROLE_ANNOTATION]: "acme-dev-orchestrator" },
    });
    const pod = mocks.one(DEPLOYMENT).inputs.spec.template.spec;
    expect(pod.serviceAccountName).toBe("orchestrator");
  });

  it("the Deployment: probes, resources, hardened security context, tmp emptyDir, zone spread, grace above the drain", async () => {
    new Orchestrator("orchestrator", args(), kubernetes());
    await settle();
    const spec = mocks.one(DEPLOYMENT).inputs.spec;
    const pod = spec.template.spec;
    const [container] = pod.containers;
    expect(container.livenessProbe.httpGet.path).toBe("/healthz");
    expect(container.readinessProbe.httpGet.path).toBe("/readyz");
    expect(container.startupProbe.httpGet.path).toBe("/healthz");
    expect(container.resources).toEqual({ requests: { cpu: "500m", memory: "512Mi" }, limits: { memory: "1Gi" } });
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 1000,
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(container.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
    });
    expect(pod.volumes).toContainEqual({ name: "tmp", emptyDir: { sizeLimit: "64Mi" } });
    expect(container.volumeMounts).toContainEqual({ name: "tmp", mountPath: "/tmp" });
    expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThan(SETTINGS.shutdownGraceMs);
    expect(pod.topologySpreadConstraints[0].topologyKey).toBe("topology.kubernetes.io/zone");
    expect(spec.template.metadata.annotations["checksum/config"]).toBeDefined();
    expect(spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
  });

  it("waits for the search setup Job and the model resources", async () => {
    const provider = new k8s.Provider("other", { kubeconfig: "{}" });
    const setup = new k8s.batch.v1.Job("search-setup", { spec: { template: {} } }, { provider });
    const models = new pulumi.ComponentResource("backbone:serving:Serving", "serving", {});
    new k8s.core.v1.ConfigMap("serving-host", {}, { parent: models, provider });
    new Orchestrator("orchestrator", args({}, [setup, models]), kubernetes());
    await settle();
    const deps = mocks.one(DEPLOYMENT).dependencies;
    expect(deps).toContain(mocks.one("kubernetes:batch/v1:Job").urn);
    // A component dependency waits for its children (the hosts inside Serving).
    expect(deps).toContain(mocks.one("kubernetes:core/v1:ConfigMap", "serving-host").urn);
    // Nothing else waits on them: the image, ConfigMap and Secret are made meanwhile.
    expect(mocks.one("kubernetes:core/v1:ConfigMap", "orchestrator-config").dependencies).not.toContain(
      mocks.one("kubernetes:batch/v1:Job").urn,
    );
  });

  it("the ConfigMap carries the env and the files the service reads, from the inputs", async () => {
    new Orchestrator("orchestrator", args(), kubernetes());
    await settle();
    const data = mocks.one("kubernetes:core/v1:ConfigMap").inputs.data;
    expect(JSON.parse(data["profile.json"])).toEqual(PROFILE);
    expect(JSON.parse(data["endpoints.json"]).embedding.url).toBe("http://nlb.internal:8080/predictions/embed");
    expect(data["opensearch-ca.crt"]).toContain("BEGIN CERTIFICATE");
    expect(data).toMatchObject({
      INDEX_ALIAS: "chunks",
      ELASTICSEARCH_URL: "https://es.internal:9200",
      OPENSEARCH_URL: "https://search-opensearch.search.svc:9200",
      OSS_BUCKET: "acme-dev-docs",
      CHAT_MODEL: "qwen-plus",
      AIREC_ENABLED: "false",
    });
    for (const secret of Object.values(SECRETS)) expect(JSON.stringify(data)).not.toContain(secret);
    const env = mocks.one(DEPLOYMENT).inputs.spec.template.spec.containers[0].env as any[];
    const byName = Object.fromEntries(env.map((e) => [e.name, e.valueFrom]));
    expect(byName.INDEX_ALIAS.configMapKeyRef.key).toBe("INDEX_ALIAS");
    expect(byName.DASHSCOPE_API_KEY.secretKeyRef.key).toBe("DASHSCOPE_API_KEY");
    expect(byName["api-keys.json"]).toBeUndefined();
  });

  it("the Secret is a Pulumi secret with the keys' hashes and the credentials", async () => {
    new Orchestrator("orchestrator", args(), kubernetes());
    await settle();
    const secret = mocks.one("kubernetes:core/v1:Secret");
    expect(isSecret(secret.inputs.stringData)).toBe(true);
    const data = unwrap(secret.inputs.stringData);
    expect(data).toMatchObject({
      DASHSCOPE_API_KEY: SECRETS.dashscope,
      ELASTICSEARCH_PASSWORD: SECRETS.es,
      OPENSEARCH_PASSWORD: SECRETS.os,
    });
    expect(JSON.parse(data["api-keys.json"])).toEqual([{ id: "web", sha256: KEY_HASH }]);
    expect(JSON.stringify(data)).not.toContain("caller-key-1");
    // The pod template stays plain (readable diffs): its checksum is a one-way digest.
    const template = mocks.one(DEPLOYMENT).inputs.spec.template;
    expect(template.metadata.annotations["checksum/config"]).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(template)).not.toContain(SECRETS.dashscope);
  });

  it("a config change changes the pod template's checksum", async () => {
    new Orchestrator("a", args(), kubernetes());
    await settle();
    const before = unwrap(mocks.one(DEPLOYMENT).inputs.spec.template.metadata.annotations["checksum/config"]);
    mocks.clear();
    new Orchestrator("a", args({ settings: { ...SETTINGS, chatModel: "qwen-max" } }), kubernetes());
    await settle();
    const after = unwrap(mocks.one(DEPLOYMENT).inputs.spec.template.metadata.annotations["checksum/config"]);
    expect(after).not.toBe(before);
  });

  it("ClusterIP Service, CPU HPA on the Deployment, PDB; no Ingress by default", async () => {
    new Orchestrator("orchestrator", args(), kubernetes());
    await settle();
    const service = mocks.one("kubernetes:core/v1:Service").inputs.spec;
    expect(service.type).toBe("ClusterIP");
    expect(service.ports).toEqual([{ name: "http", port: 8080, targetPort: "http" }]);
    const hpa = mocks.one("kubernetes:autoscaling/v2:HorizontalPodAutoscaler").inputs.spec;
    expect(hpa).toMatchObject({ minReplicas: 2, maxReplicas: 6 });
    expect(hpa.scaleTargetRef).toMatchObject({ apiVersion: "apps/v1", kind: "Deployment" });
    expect(mocks.one("kubernetes:autoscaling/v2:HorizontalPodAutoscaler").dependencies).toContain(
      mocks.one(DEPLOYMENT).urn,
    );
    expect(mocks.one("kubernetes:policy/v1:PodDisruptionBudget").inputs.spec.minAvailable).toBe(1);
    expect(mocks.ofType("kubernetes:networking.k8s.io/v1:Ingress")).toEqual([]);
    for (const r of mocks.resources.filter((r) => r.type.startsWith("kubernetes:"))) {
      expect(r.provider, r.name).toContain("::k8s::");
    }
  });

  it("with ingress on: an intranet ALB class, the Ingress on it, a NodePort Service (Flannel)", async () => {
    new Orchestrator(
      "orchestrator",
      args({ settings: { ...SETTINGS, ingress: { enabled: true, host: "chat.acme.internal" } } }),
      kubernetes(),
    );
    await settle();
    const alb = mocks.one("kubernetes:alibabacloud.com/v1:AlbConfig");
    expect(alb.inputs.spec.config.addressType).toBe("Intranet");
    const ingressClass = mocks.one("kubernetes:networking.k8s.io/v1:IngressClass").inputs;
    expect(ingressClass.spec.controller).toBe("ingress.k8s.alibabacloud/alb");
    const ingress = mocks.one("kubernetes:networking.k8s.io/v1:Ingress").inputs;
    expect(ingress.spec.rules[0].host).toBe("chat.acme.internal");
    expect(ingress.metadata.annotations["alb.ingress.kubernetes.io/healthcheck-path"]).toBe("/readyz");
    expect(mocks.one("kubernetes:core/v1:Service").inputs.spec.type).toBe("NodePort");
  });

  it("with ingress on an existing class: only the Ingress, no ALB of its own", async () => {
    new Orchestrator(
      "orchestrator",
      args({ settings: { ...SETTINGS, ingress: { enabled: true, host: "chat.acme.internal", className: "nginx" } } }),
      kubernetes(),
    );
    await settle();
    expect(mocks.one("kubernetes:networking.k8s.io/v1:Ingress").inputs.spec.ingressClassName).toBe("nginx");
    expect(mocks.ofType("kubernetes:alibabacloud.com/v1:AlbConfig")).toEqual([]);
  });

  it("passes AIRec settings through when given", async () => {
    new Orchestrator(
      "orchestrator",
      args({ airec: { instanceId: "airec-cn-1", sceneId: "home", endpoint: "airec-vpc.cn-hangzhou.aliyuncs.com" } }),
      kubernetes(),
    );
    await settle();
    expect(mocks.one("kubernetes:core/v1:ConfigMap").inputs.data).toMatchObject({
      AIREC_ENABLED: "true",
      AIREC_INSTANCE_ID: "airec-cn-1",
    });
  });

  it("refuses bad settings before registering any child", async () => {
    // Without the cluster's provider the resources would go to the ambient kubeconfig's cluster.
    expect(() => new Orchestrator("o", args())).toThrow("opts.providers: no Kubernetes provider given");
    expect(
      () => new Orchestrator("p", args({ settings: { ...SETTINGS, ingress: { enabled: true } } }), kubernetes()),
    ).toThrow("ingress.host: not set");
    await settle();
    expect(mocks.resources.filter((r) => r.custom && !r.type.startsWith("pulumi:providers:"))).toEqual([]);
  });
});
