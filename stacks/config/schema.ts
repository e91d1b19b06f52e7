import { NAME_PATTERN } from "@search-backbone/relevance";
import { z } from "zod";
import { AIREC_EDITIONS, INSTANCE_ID, PAYMENT_DURATIONS, SCENE_ID } from "../../components/recommendations/airec-api";
import { GN7I_INSTANCE_TYPE, GPU_INSTANCE_TYPE } from "./catalog";
import { parseCidr } from "./cidr";

/**
 * The one configuration schema: the shape and range of every key a stack can set. Defaults per
 * environment kind live in defaults.ts and rules that relate several keys in rules.ts. Objects
 * are strict so that a typo is an error, not a silently ignored key.
 */

export const ENVIRONMENTS = ["dev", "prod", "ephemeral"] as const;
export type EnvironmentKind = (typeof ENVIRONMENTS)[number];

/** Distinct availability zones each environment kind must spread its vSwitches over. */
export const MIN_ZONES: Readonly<Record<EnvironmentKind, number>> = { dev: 2, ephemeral: 2, prod: 3 };

const cidr = z.string().refine((value) => parseCidr(value) !== undefined, {
  message: "expected an IPv4 network in CIDR form with no host bits set, like 10.0.0.0/16",
});

/** Tags every resource gets from stacks/tags.ts; a stack's own `tags` may not redefine them. */
export const RESERVED_TAG_KEYS: readonly string[] = ["project", "stack", "environment", "owner", "expires-at"];

const positiveInt = (max: number) => z.number().int().min(1).max(max);

const namePrefix = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,19}$/, "expected 1-20 lowercase letters, digits or hyphens, starting with a letter");

const vswitch = z.strictObject({
  zone: z.string().regex(/^[a-z]{2}-[a-z0-9-]+-[a-z0-9]+$/, "expected a zone id like cn-hangzhou-h"),
  cidr,
});

const network = z.strictObject({
  vpcCidr: cidr,
  /** At least one (rules.ts: as many zones as the environment needs); none on an existing cluster. */
  vswitches: z.array(vswitch),
  nat: z.strictObject({
    enabled: z.boolean(),
    /** EIP bandwidth for egress (image pulls, DashScope calls); pay-as-you-go EIPs allow up to 500 Mbit/s. */
    bandwidthMbps: positiveInt(500),
  }),
  /** Sources allowed to reach listeners that config makes public. Empty keeps everything private. */
  publicIngressCidrs: z.array(cidr),
});

const storage = z.strictObject({
  versioning: z.boolean(),
  /** Prod uses KMS; the others use OSS-managed AES256 keys, which cost nothing. */
  encryption: z.enum(["AES256", "KMS"]),
  kmsKeyId: z.string().min(1).optional(),
  logExpirationDays: positiveInt(3650),
  noncurrentVersionExpirationDays: positiveInt(3650),
  accessLogging: z.boolean(),
  /** Empty buckets on destroy. Only ephemeral stacks may; the loader enforces it. */
  forceDestroy: z.boolean(),
});

const nodePool = z.strictObject({
  instanceTypes: z
    .array(z.string().regex(/^ecs\.[a-z0-9-]+\.[a-z0-9]+$/, "expected an ECS type like ecs.g7.xlarge"))
    .min(1),
  desiredSize: positiveInt(100),
});

// ---- Bring your own cluster: an existing Kubernetes cluster instead of ACK ----

/** A Kubernetes label key (optional DNS prefix) and value, as the API server validates them. */
const labelKey = z
  .string()
  .regex(
    /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/,
    "expected a label key like workload or example.com/pool",
  );
const labelValue = z
  .string()
  .regex(
    /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/,
    "expected a label value: up to 63 letters, digits, - _ .",
  );
const pem = (what: string) =>
  z.string().regex(/^-----BEGIN [A-Z0-9 ]+-----\n[\s\S]+\n-----END [A-Z0-9 ]+-----\n?$/, `expected ${what} in PEM`);

const existingCluster = z.strictObject({
  /**
   * The cluster's kubeconfig (YAML or JSON text), set as a secret (`pulumi config set --secret --path
   * cluster.existing.kubeconfig < kubeconfig`); it must name its current context (rules-cluster.ts).
   */
  kubeconfig: z.string().min(1),
  /** Where the OpenSearch and search-jobs images are mirrored, e.g. registry.example.com/search (no ACR here). */
  imageRegistry: z
    .string()
    .regex(
      /^[a-z0-9.-]+(:\d+)?(\/[a-z0-9._-]+)+$/,
      "expected a registry host and namespace like registry.example.com/search",
    ),
  /** The existing nodes OpenSearch runs on: their labels and the taints it tolerates (ACK: the search pool's). */
  searchNodes: z.strictObject({
    nodeSelector: z.record(labelKey, labelValue),
    tolerations: z.array(
      z.strictObject({
        key: labelKey,
        value: labelValue,
        effect: z.enum(["NoSchedule", "PreferNoSchedule", "NoExecute"]),
      }),
    ),
  }),
  /** Object storage the ingestion reads raw/ from and the orchestrator logs to (OSS or S3-compatible). */
  objectStorage: z.strictObject({
    bucket: z.string().regex(/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/, "expected a bucket name"),
    endpoint: z
      .string()
      .regex(/^[a-z0-9.-]+(:\d+)?$/, "expected an endpoint host like oss-cn-hangzhou-internal.aliyuncs.com"),
  }),
  /** The orchestrator's image by digest, built and pushed by the platform's CI (no registry is made here). */
  orchestratorImage: z
    .string()
    .regex(
      /^[a-z0-9.-]+(:\d+)?(\/[a-z0-9._-]+)+@sha256:[0-9a-f]{64}$/,
      "expected an image by digest like registry.example.com/search/orchestrator@sha256:<64 hex>",
    )
    .optional(),
  /**
   * OpenSearch's admin password and TLS material, set as secrets, for platforms whose CA issues them;
   * unset: generated in the stack (as on ACK), which needs the random and tls providers.
   */
  opensearchSecurity: z
    .strictObject({
      adminPassword: z.string().regex(/^[A-Za-z0-9_.-]{16,64}$/, "expected 16-64 letters, digits, _ . or -"),
      caCert: pem("a CA certificate"),
      nodeCert: pem("the nodes' certificate"),
      nodeKey: pem("the nodes' PKCS#8 private key"),
      adminCert: pem("the admin client certificate"),
      adminKey: pem("the admin client's PKCS#8 private key"),
    })
    .optional(),
  /**
   * The engine users' passwords (reader: the orchestrator, writer: ingestion), set as secrets; unset:
   * generated in the stack (as on ACK), which needs the random provider.
   */
  engineUserPasswords: z
    .strictObject({
      reader: z.string().regex(/^[A-Za-z0-9_.-]{16,64}$/, "expected 16-64 letters, digits, _ . or -"),
      writer: z.string().regex(/^[A-Za-z0-9_.-]{16,64}$/, "expected 16-64 letters, digits, _ . or -"),
    })
    .optional(),
  /**
   * Test only: the `pulumi.com/skipAwait` annotation on the kinds the provider awaits (stacks/existing-cluster.ts), for an API server with no nodes
   * or controllers (npm run test:kubernetes), where workloads never become ready. Never in a real stack:
   * `pulumi up` would then finish before OpenSearch is up and the setup Job has run. Unset: false.
   */
  skipAwait: z.boolean().optional(),
});

/** Elasticsearch that already runs (any 8.x with kNN), instead of creating Alibaba Cloud Elasticsearch. */
const existingSearch = z.strictObject({
  elasticsearch: z.strictObject({
    url: z.url({ protocol: /^https?$/, message: "expected the cluster's URL like https://es.example.internal:9200" }),
    username: z.string().min(1),
    /** Set as a secret (`pulumi config set --secret --path search.existing.elasticsearch.password`). */
    password: z.string().min(8),
  }),
});

// ---- end of bring your own cluster ----

const cluster = z.strictObject({
  /** Run on this existing cluster instead of creating ACK (the ACK keys below are then unused). */
  existing: existingCluster.optional(),
  /** ACK Pro for production (SLA-backed control plane); the basic spec elsewhere. */
  spec: z.enum(["ack.standard", "ack.pro.small"]),
  kubernetesVersion: z
    .string()
    .regex(/^\d+\.\d+\.\d+-aliyun\.\d+$/, "expected an ACK version like 1.33.3-aliyun.1")
    .optional(),
  /** The API server is private unless a stack explicitly opens it. */
  apiEndpointPublic: z.boolean(),
  podCidr: cidr,
  serviceCidr: cidr,
  systemPool: nodePool,
  searchPool: nodePool.extend({
    diskSizeGb: z.number().int().min(20).max(32768),
    diskPerformanceLevel: z.enum(["PL0", "PL1", "PL2", "PL3"]),
  }),
});

const registry = z.strictObject({
  /** Enterprise (a dedicated ACR instance) in prod; a namespace on the shared personal edition otherwise. */
  edition: z.enum(["enterprise", "personal"]),
  namespace: z.string().regex(/^[a-z0-9][a-z0-9_-]{1,29}$/, "expected 2-30 lowercase letters, digits, _ or -"),
  repository: z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,63}$/, "expected a lowercase repository name"),
});

/** A fine-tuned model deployed on Model Studio (BailianDeployment). */
const bailianDeployment = z.strictObject({
  modelName: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, "expected a Model Studio model id"),
  capacity: positiveInt(100),
});

const serving = z.strictObject({
  /** Where the embedding and rerank models run; both expose the same endpoint contract. */
  backend: z.enum(["torchserve", "bailian", "both", "eas"]),
  gpu: z.strictObject({
    instanceType: z.string().regex(GN7I_INSTANCE_TYPE, "expected a gn7i GPU type like ecs.gn7i-c8g1.2xlarge"),
    count: z.number().int().min(0).max(20),
    spot: z.boolean(),
    /** System disk: OS, CUDA, the Python environment and the .mar files. */
    diskSizeGb: z.number().int().min(60).max(2048),
  }),
  bailian: z.strictObject({
    baseUrl: z.url({ protocol: /^https$/, message: "expected an https URL like https://dashscope.aliyuncs.com" }),
    /** DashScope API key; set it as a secret (`pulumi config set --secret --path serving.bailian.apiKey`). */
    apiKey: z
      .string()
      .regex(/^sk-[A-Za-z0-9._-]{8,}$/, "expected a DashScope API key (sk-…)")
      .optional(),
    /** Fine-tuned models to deploy on Model Studio, per role; without one a role uses its stock model. */
    deployments: z.strictObject({ embedding: bailianDeployment.optional(), rerank: bailianDeployment.optional() }),
  }),
});

const modelVersion = z.strictObject({
  /** TorchServe model name (the .mar is <name>.mar) and the folder under models/ of the artifacts bucket. */
  name: z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, "expected 1-32 lowercase letters, digits or hyphens"),
  /** Version label; the serving hosts fetch models/<name>/<version>/<name>.mar. */
  version: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "expected a version label like v1"),
});

/**
 * The chat model's LoRA fine-tuning (models/: prepare-chat + train-llm) as a third
 * DLC job in the training workspace. Off by default; rules.ts keeps it off in ephemeral stacks and
 * requires models.training.enabled and a base when it is on.
 */
const llmTraining = z.strictObject({
  enabled: z.boolean(),
  /** The chat model to fine-tune: a Hugging Face checkpoint folder in OSS (e.g. a Qwen instruct model), never a hub id. */
  base: z
    .string()
    .regex(
      /^oss:\/\/[a-z0-9][a-z0-9-]{1,61}[a-z0-9]\/(?:[A-Za-z0-9._-]+\/)*[A-Za-z0-9._-]+\/?$/,
      "expected oss://<bucket>/<prefix> of a chat model's checkpoint folder",
    )
    .optional(),
  /** The GPU the job runs on (DLC's public pay-as-you-go pool); the base's size decides it (models/README.md). */
  instanceType: z.string().regex(GPU_INSTANCE_TYPE, "expected an ECS GPU type like ecs.gn7i-c8g1.2xlarge"),
  /** The folder under models/ of the artifacts bucket and the run's version label. */
  name: z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, "expected 1-32 lowercase letters, digits or hyphens"),
  version: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "expected a version label like v1"),
  /** Save the base with the adapter merged in (what vLLM serves as a plain model) instead of the adapter alone. */
  merge: z.boolean(),
  /** Also train on answers nobody rated (disliked answers are never used). */
  keepUnrated: z.boolean(),
});

const models = z.strictObject({
  training: z.strictObject({
    /** Run the two PAI DLC fine-tuning jobs in this stack. */
    enabled: z.boolean(),
    /** DLC's public pay-as-you-go pool spec; any GPU family DLC offers, gn7i by default. */
    instanceType: z.string().regex(GPU_INSTANCE_TYPE, "expected an ECS GPU type like ecs.gn7i-c8g1.2xlarge"),
    /** Training image (PyTorch with CUDA), e.g. one of PAI's official images; `{region}` becomes the stack's region. */
    image: z
      .string()
      .regex(
        /^[a-z0-9.{}-]+(:\d+)?\/[a-z0-9._/-]+:[A-Za-z0-9._-]+$/,
        "expected an image reference with a tag ({region} is replaced by the stack's region)",
      ),
    maxRunningMinutes: positiveInt(10080),
    /** Wait for each job to finish during `pulumi up` (so serving picks up its artifact). */
    wait: z.boolean(),
    waitTimeoutMinutes: positiveInt(1440),
    /** Label of the training data under training/; a new label is a new training run. */
    dataVersion: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "expected a label like 2026-11-01"),
    /** The base weights the jobs fine-tune: a models/ base spec, never a hub id (the jobs cannot reach hubs). */
    base: z
      .string()
      .regex(
        /^(package:[A-Za-z0-9._-]+|oss:\/\/[a-z0-9][a-z0-9-]{1,61}[a-z0-9]\/(?:[A-Za-z0-9._-]+\/)*[A-Za-z0-9._-]*)$/,
        "expected package:<distribution> (pinned in models/requirements.txt) or oss://<bucket>/<prefix>",
      ),
    llm: llmTraining,
  }),
  embedding: modelVersion,
  rerank: modelVersion,
});

const modelRef = z.strictObject({ endpoint: z.enum(["torchserve", "bailian"]), model: z.string().min(1) });

const relevance = z.strictObject({
  embedding: modelRef.extend({ dims: z.number().int().min(1).max(4096) }),
  rerank: modelRef,
  similarity: z.enum(["cosine", "dot_product", "l2_norm"]),
  bm25Weight: z.number().min(0).max(1),
  vectorWeight: z.number().min(0).max(1),
  /** Candidates each retriever contributes before fusion (kNN num_candidates / BM25 size). */
  candidateDepth: positiveInt(10000),
  /** How many fused candidates the reranker sees. */
  rerankWindow: positiveInt(500),
  /** Results returned to callers. */
  topK: positiveInt(100),
  /** Analyzer of the text field; must exist in both engines (@search-backbone/relevance, analyzers.ts). */
  analyzer: z.string().min(1),
});

const httpUrl = z.url({
  protocol: /^https?$/,
  message: "expected an http(s) URL like http://10.20.0.50:8080/v1/embeddings",
});

const search = z.strictObject({
  /** Existing engines instead of Alibaba Cloud Elasticsearch (only with cluster.existing). */
  existing: existingSearch.optional(),
  /** The alias readers query; versioned indices are `<indexAlias>-<generation>` behind it. */
  indexAlias: z.string().regex(/^[a-z][a-z0-9-]{0,40}$/, "expected lowercase letters, digits or hyphens"),
  elasticsearch: z.strictObject({
    /** Alibaba Cloud Elasticsearch versions with dense_vector HNSW and the kNN search API. */
    version: z.enum(["8.17.0", "8.15.1", "8.5.1"]),
    dataNodes: z.strictObject({
      count: z.number().int().min(2).max(50),
      spec: z.string().regex(/^elasticsearch\.[a-z0-9]+\.[a-z0-9]+$/, "expected a spec like elasticsearch.sn2ne.large"),
      diskSizeGb: z.number().int().min(20).max(20480),
      diskPerformanceLevel: z.enum(["PL1", "PL2", "PL3"]),
    }),
    zoneCount: z.number().int().min(1).max(3),
    kibanaSpec: z
      .string()
      .regex(/^elasticsearch\.[a-z0-9]+\.[a-z0-9]+$/, "expected a spec like elasticsearch.sn1ne.large"),
    /** Set as a secret (`pulumi config set --secret --path search.elasticsearch.password`); unset generates one. */
    password: z.string().min(8).max(32).optional(),
  }),
  opensearch: z.strictObject({
    nodes: z.number().int().min(1).max(15),
    storageGb: z.number().int().min(20).max(32768),
    diskPerformanceLevel: z.enum(["PL0", "PL1", "PL2", "PL3"]),
    heap: z.string().regex(/^\d+[mg]$/, "expected a JVM heap size like 2g"),
    memory: z.string().regex(/^\d+(Mi|Gi)$/, "expected a memory quantity like 4Gi"),
    cpu: z.string().regex(/^\d+(m)?$/, "expected a CPU quantity like 2 or 500m"),
  }),
  /**
   * Gateways that speak the model-endpoint contract, per role, for the search jobs and the
   * orchestrator; unset: the stack output `modelEndpoints` (required for a role Bailian serves, whose
   * native API neither the search jobs nor OpenSearch's connectors speak).
   */
  modelEndpoints: z.strictObject({
    embeddingUrl: httpUrl.optional(),
    rerankUrl: httpUrl.optional(),
  }),
  ingest: z.strictObject({
    /** Cron schedule of the ingestion CronJob (UTC). */
    schedule: z.string().regex(/^(\S+\s+){4}\S+$/, "expected a five-field cron schedule like */30 * * * *"),
    batchSize: positiveInt(256),
    concurrency: positiveInt(32),
    /**
     * Who may read a document with no `<key>.acl.json` sidecar beside it: everyone (`public`) or
     * nobody (`deny`, the default). A sidecar always wins.
     */
    defaultAccess: z.enum(["public", "deny"]),
  }),
});

const recommendations = z.strictObject({
  airec: z.strictObject({
    /** off: the orchestrator falls back to the backbone. adopt: an instance bought elsewhere. create: buy one. */
    mode: z.enum(["off", "adopt", "create"]),
    /** The instance to adopt (mode adopt), as the AIRec console lists it. */
    instanceId: z.string().regex(INSTANCE_ID, "expected an AIRec instance id like airec-cn-o400whm78004").optional(),
    /** mode create buys a prepaid instance that no destroy can release; it runs only with this set to true. */
    confirmPurchase: z.boolean(),
    /** What mode create buys (CreateInstance). */
    purchase: z.strictObject({
      edition: z.enum(AIREC_EDITIONS),
      quota: z.strictObject({
        userCount: positiveInt(1_000_000_000),
        itemCount: positiveInt(1_000_000_000),
        // The buy page sets the real limits (CreateInstance page); these bounds only catch typos [I].
        qps: positiveInt(10_000),
      }),
      payment: z.strictObject({
        duration: z.number().refine((value) => (PAYMENT_DURATIONS as readonly number[]).includes(value), {
          message: `expected one of ${PAYMENT_DURATIONS.join(", ")}`,
        }),
        pricingCycle: z.enum(["Month", "Year"]),
        autoRenew: z.boolean(),
      }),
    }),
    /** Scene ids created when missing; the first is the orchestrator's default scene. */
    scenes: z
      .array(z.string().regex(SCENE_ID, "expected 1-64 letters, digits, _ or -"))
      .min(1, "expected at least one scene id"),
  }),
});

const quantity = (example: string, pattern: RegExp) =>
  z.string().regex(pattern, `expected a Kubernetes quantity like ${example}`);
const cpu = quantity("500m or 2", /^\d+(\.\d+)?m?$/);
const memory = quantity("512Mi or 2Gi", /^\d+(Ki|Mi|Gi)$/);

/**
 * The chat model. `backend`: who writes answers, DashScope's stock model or the fine-tuned model on EAS.
 * `fineTune`: who fine-tunes it when models.training.llm is on. "pai": the DLC job
 * trains a LoRA on the base checkpoint in OSS (models/ train-llm). "bailian": the DLC job only prepares
 * the data (models/ prepare-chat), Model Studio fine-tunes one of its Qwen models on it
 * (/api/v1/fine-tunes) and the result is deployed through BailianDeployment.
 */
const chat = z.strictObject({
  backend: z.enum(["dashscope", "eas"]),
  fineTune: z.enum(["pai", "bailian"]),
  bailian: z.strictObject({
    /** The Model Studio model to fine-tune, e.g. qwen3-8b (Model Studio's list of fine-tunable models). */
    model: z.string().regex(/^[a-z0-9][a-z0-9._-]{1,63}$/, "expected a Model Studio model id like qwen3-8b"),
    /** efficient_sft: LoRA; sft: all weights. */
    trainingType: z.enum(["efficient_sft", "sft"]),
    nEpochs: positiveInt(100),
    /** Capacity units of the dedicated deployment of the fine-tuned model. */
    capacity: positiveInt(100),
    /** The DLC spec that runs prepare-chat (CPU only: no training happens on PAI on this path). */
    prepareInstanceType: z.string().regex(/^ecs\.[a-z0-9-]+\.\d*x?large$/, "expected an ECS type like ecs.g7.xlarge"),
  }),
});

const orchestrator = z.strictObject({
  /** Build, push and run the orchestrator service (k8s/orchestrator) on the cluster. */
  enabled: z.boolean(),
  replicas: z.strictObject({ min: positiveInt(50), max: positiveInt(200) }),
  resources: z.strictObject({
    requests: z.strictObject({ cpu, memory }),
    limits: z.strictObject({ cpu: cpu.optional(), memory }),
  }),
  /** HPA target: average CPU use, in percent of the request. */
  targetCpuUtilization: z.number().int().min(10).max(100),
  /** DashScope chat model, e.g. qwen-plus. */
  chatModel: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, "expected a DashScope model id like qwen-plus"),
  /** OpenAI-compatible base URL; unset: serving.bailian.baseUrl + /compatible-mode/v1. */
  dashscopeBaseUrl: z
    .url({
      protocol: /^https$/,
      message: "expected an https URL like https://dashscope.aliyuncs.com/compatible-mode/v1",
    })
    .optional(),
  /** Secret (`pulumi config set --secret --path orchestrator.dashscopeApiKey sk-…`); unset: serving.bailian.apiKey. */
  dashscopeApiKey: z
    .string()
    .regex(/^sk-[A-Za-z0-9._-]{8,}$/, "expected a DashScope API key (sk-…)")
    .optional(),
  /** Callers' keys, stored as SHA-256 hex only; set as secrets (README: "Orchestrator"). */
  apiKeys: z.array(
    z.strictObject({
      id: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, "expected 1-64 letters, digits, _ . or -"),
      sha256: z.string().regex(/^[0-9a-f]{64}$/, "expected the key's SHA-256 as 64 lowercase hex digits"),
      ratePerMinute: positiveInt(100000).optional(),
      /** The key's groups for document permissions (the sidecars' group names); none: public documents only. */
      groups: z
        .array(z.string().regex(NAME_PATTERN, "expected a group name: letters, digits, . _ @ + : = / -"))
        .optional(),
      /** A trusted back end that may act on behalf of the end user it names. */
      onBehalfOf: z.boolean().optional(),
    }),
  ),
  /** Bearer JWTs from the company's identity provider, verified against its JWKS; unset: API keys only. */
  jwt: z
    .strictObject({
      issuer: z.string().min(1),
      audience: z.string().min(1),
      jwksUrl: z.url({ protocol: /^https$/, message: "expected the identity provider's JWKS as an https URL" }),
      userClaim: z.string().min(1).optional(),
      groupsClaim: z.string().min(1).optional(),
    })
    .optional(),
  rateLimitPerMinute: positiveInt(100000),
  logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace"]),
  /** Drain time after SIGTERM; the pods' termination grace period is derived from it. */
  shutdownGraceMs: z.number().int().min(1000).max(120000),
  /**
   * Outbound keep-alive connections (engines, model endpoints, DashScope) idle this long are closed;
   * unset: the service's default (UPSTREAM_IDLE_TIMEOUT_MS, whose range this is).
   */
  upstreamIdleTimeoutMs: z.number().int().min(1).max(600_000).optional(),
  /**
   * Backpressure per replica, all three together; unset: the service's defaults (ENGINE_MAX_IN_FLIGHT,
   * MODEL_MAX_IN_FLIGHT, DEPENDENCY_QUEUE_LENGTH). The upper bounds only catch typos.
   */
  dependencyLimits: z
    .strictObject({
      /** Calls in flight per search engine. */
      engineInFlight: positiveInt(10_000),
      /** Calls in flight per model endpoint (embedding, rerank). */
      modelInFlight: positiveInt(10_000),
      /** Calls that may wait per dependency beyond those in flight; 0 refuses at once when all are busy. */
      queue: z.number().int().min(0).max(100_000),
    })
    .optional(),
  /** Record each answered chat turn under logs/chat/ (training data for the chat model; personal data). */
  chatLog: z.boolean(),
  ingress: z.strictObject({
    enabled: z.boolean(),
    host: z
      .string()
      .regex(
        /^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,}$/,
        "expected a DNS host name like chat.example.internal",
      )
      .optional(),
    /** An existing IngressClass; unset: an intranet-only ALB made for the orchestrator. */
    className: z
      .string()
      .regex(/^[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?$/, "expected an IngressClass name")
      .optional(),
  }),
  image: z.strictObject({
    /** Where `pulumi up` pushes from: "internet" (a CI runner) or "vpc" (a runner inside the VPC). */
    pushEndpoint: z.enum(["internet", "vpc"]),
    /**
     * Push credentials. Required on the personal edition (its fixed registry password); on Enterprise,
     * unset uses a temporary token from GetAuthorizationToken. The password is set as a secret.
     */
    username: z.string().min(1).optional(),
    password: z.string().min(8).optional(),
  }),
});

// PAI-EAS services for the chat LLM and for the embed/rerank archives.
const easInstanceType = z
  .string()
  .regex(
    /^(ecs\.[a-z0-9-]+\.[a-z0-9]+|ml\.[a-z0-9]+\.[a-z0-9.]+)$/,
    "expected an EAS instance type like ecs.gn7i-c8g1.2xlarge",
  );
const easImage = z
  .string()
  .regex(
    /^[a-z0-9.{}-]+(:\d+)?\/[a-z0-9._/-]+(:[A-Za-z0-9._-]+|@sha256:[0-9a-f]{64})$/,
    "expected an image reference with a tag or digest ({region} is replaced by the stack's region)",
  );
const easReplicas = z.strictObject({
  min: positiveInt(100),
  max: positiveInt(100),
  /** Scale out past this QPS per replica; required when min < max. */
  targetQps: z.number().positive().optional(),
});
const easService = z.strictObject({
  image: easImage,
  instanceType: easInstanceType,
  replicas: easReplicas,
});
const eas = z.strictObject({
  /** The PAI workspace the services belong to (digits). */
  workspaceId: z.string().regex(/^\d+$/, "expected a PAI workspace id (digits)"),
  /** A dedicated EAS resource group (eas-r-…); unset: the public resource group. */
  resourceGroup: z
    .string()
    .regex(/^eas-r-[a-z0-9]+$/, "expected a resource group id like eas-r-xxxx")
    .optional(),
  /** How long `pulumi up` waits for a new version to run. */
  waitTimeoutMinutes: positiveInt(240),
  /** The fine-tuned chat model on vLLM's OpenAI-compatible server (chat.backend: eas). */
  llm: easService.extend({
    /**
     * Merged weights under models/ of the artifacts bucket, e.g. models/llm/v1/. Unset: the merged model
     * of the run models.training.llm trains (its model/ folder), which the service then waits for.
     */
    modelPrefix: z
      .string()
      .regex(/^models\/(?:[A-Za-z0-9._=-]+\/)+$/, "expected a prefix like models/llm/v1/")
      .optional(),
    /** The name vLLM serves the model as (the orchestrator's CHAT_MODEL). */
    servedModelName: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, "expected a model name like backbone-chat"),
  }),
  /** The embed and rerank archives on TorchServe in EAS (serving.backend: eas). */
  models: easService,
});

export const configSchema = z.strictObject({
  environment: z.enum(ENVIRONMENTS),
  region: z.string().regex(/^[a-z]{2}-[a-z0-9-]+$/, "expected a region id like cn-hangzhou"),
  owner: z.string().min(1, "expected the owning team or person, used in tags"),
  /** Leads every cloud name (buckets are global, so pick something your organisation owns). */
  namePrefix,
  /** RFC 3339 instant after which an ephemeral stack may be torn down by the reaper. */
  expiresAt: z.iso
    .datetime({ offset: true, message: "expected an RFC 3339 time like 2026-11-23T18:00:00Z" })
    .optional(),
  tags: z.record(
    z
      .string()
      .regex(/^[A-Za-z0-9][\w.:/-]{0,127}$/, "expected a tag key of letters, digits, _.:/-")
      // Alibaba Cloud reserves these prefixes for its own tags.
      .refine(
        (key) => !/^(aliyun|acs:|https?:\/\/)/i.test(key),
        "expected a key not starting with aliyun, acs: or http(s)://",
      )
      .refine(
        (key) => !RESERVED_TAG_KEYS.includes(key),
        `expected a key other than ${RESERVED_TAG_KEYS.join(", ")}, which the stack sets itself`,
      ),
    z.string().max(128),
  ),
  network,
  storage,
  cluster,
  registry,
  serving,
  models,
  relevance,
  search,
  recommendations,
  orchestrator,
  chat,
  eas: eas.optional(),
});

/** The keys as a stack sets them, validated, before the loader resolves what they leave to other keys. */
export type StackSettings = z.infer<typeof configSchema>;

type OrchestratorSettings = StackSettings["orchestrator"];
type ResolvedOrchestrator = Omit<OrchestratorSettings, "enabled" | "dashscopeBaseUrl" | "dashscopeApiKey"> & {
  /** Always set: orchestrator.dashscopeBaseUrl, or serving.bailian.baseUrl + /compatible-mode/v1. */
  readonly dashscopeBaseUrl: string;
};

/**
 * The orchestrator's settings with the effective DashScope base URL and key; when enabled the key is
 * always there (orchestrator.dashscopeApiKey, or serving.bailian.apiKey: rules.ts refuses an enabled
 * orchestrator with neither).
 */
export type OrchestratorConfig =
  | (ResolvedOrchestrator & { readonly enabled: true; readonly dashscopeApiKey: string })
  | (ResolvedOrchestrator & { readonly enabled: false; readonly dashscopeApiKey?: string | undefined });

/** The one validated config object components are wired from (load.ts, resolve.ts). */
export type BackboneConfig = Omit<StackSettings, "orchestrator"> & { readonly orchestrator: OrchestratorConfig };
