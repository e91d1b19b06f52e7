import { createHash } from "node:crypto";
import type { OrchestratorEnvName } from "@search-backbone/relevance";

/**
 * The orchestrator component's contract and the pure functions that compute everything it
 * renders: the environment (its names are the relevance package's ORCHESTRATOR_ENV, which the
 * service's config schema has exactly), the API-keys file, labels, resources, probes and security contexts. Tested directly.
 */

export interface ApiKey {
  readonly id: string;
  /** Hex SHA-256 of the key; the key itself never reaches Pulumi. */
  readonly sha256: string;
  readonly ratePerMinute?: number | undefined;
}

export interface ResourceSettings {
  readonly requests: { readonly cpu: string; readonly memory: string };
  readonly limits: { readonly cpu?: string | undefined; readonly memory: string };
}

export interface IngressSettings {
  readonly enabled: boolean;
  readonly host?: string | undefined;
  /** An existing IngressClass; unset: the component's own ALB class on an intranet-only ALB. */
  readonly className?: string | undefined;
}

export interface OrchestratorSettings {
  readonly replicas: { readonly min: number; readonly max: number };
  readonly resources: ResourceSettings;
  /** HPA target: average CPU utilisation of the requests, in percent. */
  readonly targetCpuUtilization: number;
  readonly chatModel: string;
  /** DashScope's OpenAI-compatible base URL, e.g. https://dashscope.aliyuncs.com/compatible-mode/v1. */
  readonly dashscopeBaseUrl: string;
  readonly rateLimitPerMinute: number;
  readonly logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace";
  /** How long the service drains requests and telemetry after SIGTERM. */
  readonly shutdownGraceMs: number;
  /** Outbound keep-alive connections (engines, model endpoints) idle this long are closed; unset: the service's default. */
  readonly upstreamIdleTimeoutMs?: number | undefined;
  /** Backpressure per replica: calls in flight per engine and per model endpoint, and how many more may wait. */
  readonly dependencyLimits?:
    | { readonly engineInFlight: number; readonly modelInFlight: number; readonly queue: number }
    | undefined;
  readonly ingress: IngressSettings;
}

/** Where the service reads its files inside the container. */
export const MOUNTS = { config: "/etc/orchestrator", secrets: "/etc/orchestrator-secrets", tmp: "/tmp" } as const;
export const FILES = {
  profile: "profile.json",
  endpoints: "endpoints.json",
  opensearchCa: "opensearch-ca.crt",
  apiKeys: "api-keys.json",
} as const;
export const HTTP_PORT = 8080;
/** The image's `node` user (k8s/orchestrator/Dockerfile). */
export const RUN_AS_USER = 1000;

export interface EnvInputs {
  readonly indexAlias: string;
  readonly elasticsearchUrl: string;
  readonly opensearchUrl: string;
  readonly oss: { readonly bucket: string; readonly region: string; readonly endpoint: string };
  /** Under the docs bucket's logs/ prefix: the orchestrator's RAM policy may write nothing else. */
  readonly eventLogPrefixes: { readonly events: string; readonly recs: string };
  readonly rawPrefix: string;
  readonly airec?: { readonly instanceId: string; readonly sceneId: string; readonly endpoint: string } | undefined;
  readonly settings: OrchestratorSettings;
}

/** Variables by the names the service validates (the relevance package's ORCHESTRATOR_ENV). */
export type OrchestratorEnv = Partial<Record<OrchestratorEnvName, string>>;

/** The ConfigMap's environment variables (non-secret). */
export function orchestratorEnv(input: EnvInputs): OrchestratorEnv {
  const { settings } = input;
  for (const [field, prefix] of Object.entries(input.eventLogPrefixes)) {
    if (!prefix.endsWith("/")) throw new Error(`eventLogPrefixes.${field}: given "${prefix}"; expected a folder/`);
  }
  return {
    PORT: String(HTTP_PORT),
    LOG_LEVEL: settings.logLevel,
    PROFILE_FILE: `${MOUNTS.config}/${FILES.profile}`,
    ENDPOINTS_FILE: `${MOUNTS.config}/${FILES.endpoints}`,
    INDEX_ALIAS: input.indexAlias,
    RAW_PREFIX: input.rawPrefix,
    ELASTICSEARCH_URL: input.elasticsearchUrl,
    OPENSEARCH_URL: input.opensearchUrl,
    OPENSEARCH_CA_FILE: `${MOUNTS.config}/${FILES.opensearchCa}`,
    DASHSCOPE_BASE_URL: settings.dashscopeBaseUrl,
    CHAT_MODEL: settings.chatModel,
    AIREC_ENABLED: input.airec ? "true" : "false",
    ...(input.airec
      ? {
          AIREC_ENDPOINT: input.airec.endpoint,
          AIREC_INSTANCE_ID: input.airec.instanceId,
          AIREC_SCENE_ID: input.airec.sceneId,
        }
      : {}),
    OSS_BUCKET: input.oss.bucket,
    OSS_REGION: input.oss.region,
    OSS_ENDPOINT: input.oss.endpoint,
    EVENT_LOG_PREFIX: input.eventLogPrefixes.events,
    EVENT_LOG_RECS_PREFIX: input.eventLogPrefixes.recs,
    API_KEYS_FILE: `${MOUNTS.secrets}/${FILES.apiKeys}`,
    RATE_LIMIT_PER_MINUTE: String(settings.rateLimitPerMinute),
    SHUTDOWN_GRACE_MS: String(settings.shutdownGraceMs),
    ...(settings.upstreamIdleTimeoutMs === undefined
      ? {}
      : { UPSTREAM_IDLE_TIMEOUT_MS: String(settings.upstreamIdleTimeoutMs) }),
    ...(settings.dependencyLimits
      ? {
          ENGINE_MAX_IN_FLIGHT: String(settings.dependencyLimits.engineInFlight),
          MODEL_MAX_IN_FLIGHT: String(settings.dependencyLimits.modelInFlight),
          DEPENDENCY_QUEUE_LENGTH: String(settings.dependencyLimits.queue),
        }
      : {}),
  };
}

export interface SecretInputs {
  readonly dashscopeApiKey: string;
  readonly elasticsearch: { readonly username: string; readonly password: string };
  readonly opensearch: { readonly username: string; readonly password: string };
  /** The model endpoints' bearer token, when an endpoint names one (`authSecret`). */
  readonly modelApiKey?: string | undefined;
}

/** The Secret's environment variables; everything here is a credential. */
export function orchestratorSecretEnv(input: SecretInputs): OrchestratorEnv {
  return {
    DASHSCOPE_API_KEY: input.dashscopeApiKey,
    ELASTICSEARCH_USERNAME: input.elasticsearch.username,
    ELASTICSEARCH_PASSWORD: input.elasticsearch.password,
    OPENSEARCH_USERNAME: input.opensearch.username,
    OPENSEARCH_PASSWORD: input.opensearch.password,
    ...(input.modelApiKey ? { MODEL_API_KEY: input.modelApiKey } : {}),
  };
}

const API_KEY_ID = /^[A-Za-z0-9_.-]{1,64}$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;

/** API_KEYS_FILE: `[{id, sha256, ratePerMinute?}]`, checked as the service checks it, ids unique. */
export function apiKeysFile(keys: readonly ApiKey[]): string {
  if (keys.length === 0) throw new Error("apiKeys: given []; expected at least one {id, sha256} entry");
  const seen = new Set<string>();
  keys.forEach((key, i) => {
    if (!API_KEY_ID.test(key.id)) throw new Error(`apiKeys[${i}].id: given "${key.id}"; expected 1-64 of A-Za-z0-9_.-`);
    if (seen.has(key.id)) throw new Error(`apiKeys[${i}].id: given "${key.id}"; expected ids to be unique`);
    seen.add(key.id);
    // The hash is not echoed: a wrong value is usually a pasted key.
    if (!SHA256_HEX.test(key.sha256)) throw new Error(`apiKeys[${i}].sha256: expected 64 lowercase hex digits`);
    if (key.ratePerMinute !== undefined && !(Number.isInteger(key.ratePerMinute) && key.ratePerMinute >= 1)) {
      throw new Error(`apiKeys[${i}].ratePerMinute: given ${key.ratePerMinute}; expected an integer >= 1`);
    }
  });
  return JSON.stringify(
    keys.map((k) => ({ id: k.id, sha256: k.sha256, ...(k.ratePerMinute ? { ratePerMinute: k.ratePerMinute } : {}) })),
  );
}

/** Hex SHA-256 of a key, as an operator computes it (`printf %s "$KEY" | sha256sum`). */
export const sha256Hex = (text: string): string => createHash("sha256").update(text, "utf8").digest("hex");

/** A digest of everything the pods read at start-up: a change in it rolls the Deployment. */
export function configChecksum(...parts: readonly Record<string, string>[]): string {
  const canonical = parts.map((part) =>
    Object.fromEntries(Object.entries(part).sort(([a], [b]) => a.localeCompare(b))),
  );
  return sha256Hex(JSON.stringify(canonical));
}

export function orchestratorLabels(instance: string, version: string): Record<string, string> {
  return {
    "app.kubernetes.io/name": "orchestrator",
    "app.kubernetes.io/instance": instance,
    "app.kubernetes.io/version": version,
    "app.kubernetes.io/part-of": "search-backbone",
  };
}

/** The stable subset for selectors (a Deployment's selector is immutable; the version is not in it). */
export const selectorLabels = (instance: string): Record<string, string> => ({
  "app.kubernetes.io/name": "orchestrator",
  "app.kubernetes.io/instance": instance,
});

export function containerResources(resources: ResourceSettings) {
  return {
    requests: { cpu: resources.requests.cpu, memory: resources.requests.memory },
    // No CPU limit unless asked: throttling a latency-bound service costs more than it saves.
    limits: { memory: resources.limits.memory, ...(resources.limits.cpu ? { cpu: resources.limits.cpu } : {}) },
  };
}

/**
 * /healthz: the process answers (liveness restarts a wedged one); /readyz: an engine serves the
 * alias (out of rotation until then); the startup probe gives start-up 2 minutes before liveness applies.
 */
export function probes(port = HTTP_PORT) {
  const get = (path: string) => ({ httpGet: { path, port } });
  return {
    startupProbe: { ...get("/healthz"), periodSeconds: 2, failureThreshold: 60, timeoutSeconds: 2 },
    livenessProbe: { ...get("/healthz"), periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 2 },
    readinessProbe: { ...get("/readyz"), periodSeconds: 5, failureThreshold: 2, timeoutSeconds: 3 },
  };
}

export const podSecurityContext = () => ({
  runAsNonRoot: true,
  runAsUser: RUN_AS_USER,
  runAsGroup: RUN_AS_USER,
  fsGroup: RUN_AS_USER,
  seccompProfile: { type: "RuntimeDefault" },
});

export const containerSecurityContext = () => ({
  runAsNonRoot: true,
  runAsUser: RUN_AS_USER,
  allowPrivilegeEscalation: false,
  privileged: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ["ALL"] },
  seccompProfile: { type: "RuntimeDefault" },
});

/**
 * Seconds Kubernetes waits after SIGTERM before SIGKILL: the service's own drain, plus the preStop
 * pause that lets endpoints drop the pod before it stops accepting, plus a margin.
 */
export function terminationGraceSeconds(shutdownGraceMs: number, preStopSeconds: number): number {
  return Math.ceil(shutdownGraceMs / 1000) + preStopSeconds + 5;
}

/** Spread over zones first (zone loss), then over nodes; both soft so a small cluster still schedules. */
export function spreadConstraints(selector: Record<string, string>) {
  return ["topology.kubernetes.io/zone", "kubernetes.io/hostname"].map((topologyKey) => ({
    maxSkew: 1,
    topologyKey,
    whenUnsatisfiable: "ScheduleAnyway",
    labelSelector: { matchLabels: selector },
  }));
}

/** PDB: with one replica, allowing no disruption would block node drains, so allow one then. */
export const pdbSpec = (minReplicas: number, selector: Record<string, string>) =>
  minReplicas > 1
    ? { minAvailable: minReplicas - 1, selector: { matchLabels: selector } }
    : { maxUnavailable: 1, selector: { matchLabels: selector } };

export function hpaSpec<Name>(deploymentName: Name, settings: OrchestratorSettings) {
  const { min, max } = settings.replicas;
  if (!(Number.isInteger(min) && min >= 1 && max >= min)) {
    throw new Error(`replicas: given {min: ${min}, max: ${max}}; expected 1 <= min <= max`);
  }
  return {
    scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: deploymentName },
    minReplicas: min,
    maxReplicas: max,
    metrics: [
      {
        type: "Resource",
        resource: { name: "cpu", target: { type: "Utilization", averageUtilization: settings.targetCpuUtilization } },
      },
    ],
    // Scale down slowly: SSE streams are long-lived, and a replica removed drops them.
    behavior: {
      scaleDown: { stabilizationWindowSeconds: 300, policies: [{ type: "Pods", value: 1, periodSeconds: 60 }] },
    },
  };
}

/**
 * The digest the Deployment runs, on the registry host the nodes pull from. The image is pushed
 * to `pushed` (`host/ns/repo@sha256:…`); nodes pull the same digest from `pullRepository` (the VPC host).
 */
export function pullReference(pullRepository: string, pushed: string): string {
  const digest = /@(sha256:[0-9a-f]{64})$/.exec(pushed)?.[1];
  if (!digest) throw new Error(`image: given repoDigest "${pushed}"; expected <repository>@sha256:<64 hex>`);
  return `${pullRepository}@${digest}`;
}

/**
 * The image tag: the package version plus a hash of the build context's files, so a tag is never
 * pushed twice with different content (ACR Enterprise tags are immutable) and an unchanged context
 * keeps its tag.
 */
export function imageTag(version: string, files: readonly { path: string; content: string | Buffer }[]): string {
  if (!/^[0-9A-Za-z][0-9A-Za-z.-]{0,40}$/.test(version)) throw new Error(`image version: given "${version}"`);
  const hash = createHash("sha256");
  for (const file of [...files].sort((a, b) => a.path.localeCompare(b.path))) {
    hash.update(file.path).update("\0").update(file.content).update("\0");
  }
  return `${version}-${hash.digest("hex").slice(0, 12)}`;
}

/** Intranet-only ALB: the AlbConfig the component's own IngressClass points at. */
export const ALB_CONTROLLER = "ingress.k8s.alibabacloud/alb";

export function albConfigSpec(name: string, vswitchIds: readonly string[]) {
  if (vswitchIds.length < 2) {
    throw new Error(`ingress: given ${vswitchIds.length} vSwitch(es); an ALB needs vSwitches in at least 2 zones`);
  }
  return {
    config: {
      name,
      addressType: "Intranet",
      zoneMappings: vswitchIds.map((vSwitchId) => ({ vSwitchId })),
    },
    listeners: [{ port: 80, protocol: "HTTP" }],
  };
}

/** ALB health checks on the readiness route (ALB Ingress annotations; the default check is HEAD /). */
export const albIngressAnnotations = (): Record<string, string> => ({
  "alb.ingress.kubernetes.io/healthcheck-enabled": "true",
  "alb.ingress.kubernetes.io/healthcheck-path": "/readyz",
  "alb.ingress.kubernetes.io/healthcheck-method": "GET",
  "alb.ingress.kubernetes.io/healthcheck-httpcode": "http_2xx",
});
