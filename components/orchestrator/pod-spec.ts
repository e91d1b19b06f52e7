import { sha256Hex } from "./api-keys";
import { HTTP_PORT } from "./env";
import type { OrchestratorSettings, ResourceSettings } from "./settings";

/**
 * The pod-spec pieces the orchestrator component renders: labels, resources, probes, security
 * contexts, spreading, the PDB and the HPA, and the checksum that rolls the pods. Pure: tested directly.
 */

/** The image's `node` user (k8s/orchestrator/Dockerfile). */
export const RUN_AS_USER = 1000;

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
  // The config schema and rules have checked 1 <= min <= max.
  const { min, max } = settings.replicas;
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
