import { createHash } from "node:crypto";
import type { RecordedResource } from "./mocks";

/**
 * Kubernetes manifests from the resources the program registers under the mock runtime: exactly the
 * inputs the pulumi-kubernetes provider would receive, with the two things the provider itself adds
 * (apiVersion/kind, which the SDK sets anyway, and a generated name where metadata has none).
 */

export interface Manifest {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string } & Record<string, unknown>;
  readonly [field: string]: unknown;
}

/** Secret values reach the mock monitor wrapped as { <sig key>: <secret sig>, value }. */
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** The value with every secret wrapper replaced by the plain value, as the provider receives it. */
export function unwrapSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (value === null || typeof value !== "object") return value;
  const record = value as Record<string, unknown>;
  if (record[SIG_KEY] === SECRET_SIG) return unwrapSecrets(record.value);
  return Object.fromEntries(
    Object.entries(record)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k, unwrapSecrets(v)]),
  );
}

/**
 * The name the provider gives an object whose metadata names none: the resource name, a dash and 8
 * hex characters. The provider draws them at random; here they derive from the name, so runs repeat.
 */
export function autoName(resourceName: string): string {
  return `${resourceName}-${createHash("sha256").update(resourceName).digest("hex").slice(0, 8)}`;
}

/** Whether a resource type token is a Kubernetes object the provider sends to the API server. */
export function isKubernetesObject(type: string): boolean {
  return /^kubernetes:[^:]+:[^:]+$/.test(type) && !type.startsWith("kubernetes:helm") && !type.includes(":yaml");
}

/** apiVersion and kind from a type token: kubernetes:apps/v1:Deployment, kubernetes:core/v1:Namespace. */
export function apiVersionAndKind(type: string): { apiVersion: string; kind: string } {
  const match = /^kubernetes:([^:/]+)\/([^:]+):(\w+)$/.exec(type);
  if (!match) throw new Error(`'${type}' is not a Kubernetes type token (kubernetes:<group>/<version>:<Kind>)`);
  const [, group, version, kind] = match as unknown as [string, string, string, string];
  return { apiVersion: group === "core" ? version : `${group}/${version}`, kind };
}

/** The manifest the provider would apply for one recorded Kubernetes resource. */
export function toManifest(resource: Pick<RecordedResource, "type" | "name" | "inputs">): Manifest {
  const inputs = unwrapSecrets(resource.inputs) as Record<string, any>;
  // A CustomResource's token is kubernetes:<apiVersion>:<kind> too; the inputs carry both anyway.
  const fromType = apiVersionAndKind(resource.type);
  const metadata = { ...inputs.metadata, name: inputs.metadata?.name ?? autoName(resource.name) };
  return { ...fromType, ...inputs, metadata } as Manifest;
}

/** Every Kubernetes object of a program run as a manifest, namespaces first (the rest live in them). */
export function manifestsOf(resources: readonly RecordedResource[]): Manifest[] {
  const manifests = resources.filter((r) => r.custom && isKubernetesObject(r.type)).map(toManifest);
  const rank = (m: Manifest) => (m.kind === "Namespace" ? 0 : 1);
  return manifests.sort((a, b) => rank(a) - rank(b));
}

/** Where each workload kind keeps its pod template. */
function podTemplate(manifest: Manifest): { metadata?: Record<string, any>; spec: Record<string, any> } | undefined {
  const spec = manifest.spec as Record<string, any> | undefined;
  switch (manifest.kind) {
    case "Deployment":
    case "StatefulSet":
    case "DaemonSet":
    case "ReplicaSet":
    case "Job":
      return spec?.template;
    case "CronJob":
      return spec?.jobTemplate?.spec?.template;
    default:
      return undefined;
  }
}

/**
 * A Pod for every pod template, as the workload's controller would create it. PodSecurity only warns
 * about a controller's template but refuses the Pod, so these make a violation an error. A StatefulSet's
 * claim templates become the Pod's volumes, as its controller adds them.
 */
export function podsFromTemplates(manifests: readonly Manifest[]): Manifest[] {
  return manifests.flatMap((manifest) => {
    const template = podTemplate(manifest);
    if (!template) return [];
    const claims: any[] = manifest.kind === "StatefulSet" ? ((manifest.spec as any).volumeClaimTemplates ?? []) : [];
    const claimVolumes = claims.map((claim) => ({
      name: claim.metadata.name,
      persistentVolumeClaim: { claimName: `${claim.metadata.name}-${manifest.metadata.name}-0` },
    }));
    const spec = claimVolumes.length
      ? { ...template.spec, volumes: [...(template.spec.volumes ?? []), ...claimVolumes] }
      : template.spec;
    return [
      {
        apiVersion: "v1",
        kind: "Pod",
        metadata: {
          ...template.metadata,
          name: `${manifest.metadata.name}-${manifest.kind.toLowerCase()}-pod`,
          ...(manifest.metadata.namespace ? { namespace: manifest.metadata.namespace } : {}),
        },
        spec,
      },
    ];
  });
}
