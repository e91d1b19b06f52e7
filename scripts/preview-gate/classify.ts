import { type ExposureChange, type ExposureContext, exposure } from "./exposure.ts";
import { type PreviewStep, urnParts } from "./preview.ts";

/**
 * What makes a change dangerous. Stateful resources hold data or take long to rebuild: OSS buckets,
 * Elasticsearch, OpenSearch volumes (cloud disks and the PVCs / StatefulSets that claim them), the
 * ACK cluster and AIRec (no provider resource exists; matched by name for the dynamic provider that
 * will manage it).
 */
export const STATEFUL: readonly { readonly kind: string; readonly type: RegExp }[] = [
  { kind: "OSS bucket", type: /^alicloud:oss\/bucket:Bucket$/ },
  { kind: "Elasticsearch", type: /^alicloud:elasticsearch\/instance:Instance$/ },
  { kind: "OpenSearch volume", type: /^alicloud:ecs\/(ecsDisk:EcsDisk|disk:Disk)$/ },
  { kind: "OpenSearch volume", type: /^kubernetes:core\/v1:PersistentVolumeClaim$/ },
  { kind: "OpenSearch volume", type: /^kubernetes:apps\/v1:StatefulSet$/ },
  { kind: "ACK cluster", type: /^alicloud:cs\/(managedKubernetes:ManagedKubernetes|kubernetes:Kubernetes)$/ },
  { kind: "AIRec", type: /airec/i },
  { kind: "NAS file system", type: /^alicloud:nas\/fileSystem:FileSystem$/ },
];

/** Properties whose change resizes compute: GPU hosts, node pools, the search cluster. */
const SIZE_PROPERTY =
  /^(instanceTypes?|desiredSize|nodeCount|scalingConfig|dataNodeAmount|dataNodeSpec|amount)(\.|\[|$)/;
const SIZED_TYPE = /^alicloud:(cs\/nodePool|ecs\/instance|elasticsearch\/instance)|gpu/i;

const DESTRUCTIVE_OPS = ["replace", "delete", "delete-replaced", "create-replacement", "discard", "discard-replaced"];
const NO_CHANGE_OPS = ["same", "read", "refresh"];

export interface Assessment {
  readonly type: string;
  readonly name: string;
  readonly op: string;
  readonly changed: string[];
  /** Block the merge unless overridden. */
  readonly dangers: string[];
  /** Changes that widen who can reach the resource; they block like dangers, and get their own section. */
  readonly exposures: ExposureChange[];
  /** Worth a reviewer's eye (cost, capacity); never blocks. */
  readonly notes: string[];
}

export const statefulKind = (type: string): string | undefined => STATEFUL.find((s) => s.type.test(type))?.kind;

/**
 * The properties a step changes: the provider's detailed diff when it gave one, else its diff and
 * replace reasons, else (providers such as dynamic ones report neither) the top-level inputs that differ.
 */
export function changedProperties(step: PreviewStep): string[] {
  // (The schema admits null where Pulumi may write it.)
  if (step.detailedDiff && Object.keys(step.detailedDiff).length > 0) return Object.keys(step.detailedDiff).sort();
  const reasons = new Set([...(step.diffReasons ?? []), ...(step.replaceReasons ?? [])]);
  if (reasons.size > 0 || !step.oldState?.inputs || !step.newState?.inputs) return [...reasons].sort();
  const [olds, news] = [step.oldState.inputs, step.newState.inputs];
  return [...new Set([...Object.keys(olds), ...Object.keys(news)])]
    .filter((key) => key !== "__provider" && JSON.stringify(olds[key]) !== JSON.stringify(news[key]))
    .sort();
}

const isGpuType = (value: unknown): value is string =>
  typeof value === "string" && /^ecs\.(gn|vgn|sgn|ebmgn)/.test(value);
const gpuTypesIn = (inputs: Record<string, unknown> | null | undefined): string[] => {
  const types = inputs?.instanceTypes;
  return [inputs?.instanceType, ...(Array.isArray(types) ? types : [])].filter(isGpuType);
};

/**
 * Fields whose change alters no behaviour of the resource: labels for people and for billing. An
 * update of a protected resource that changes only these is not dangerous. Tags that drive the
 * lifecycle (the teardown and the policy pack read them) are not harmless.
 */
export const HARMLESS_FIELDS: readonly string[] = ["tags", "description"];
export const LIFECYCLE_TAGS: readonly string[] = ["environment", "expires-at", "ephemeral", "owner"];

const topLevel = (property: string): string => property.split(/[.[]/)[0] ?? property;
const tagValue = (inputs: Record<string, unknown> | null | undefined, key: string): string => {
  const tags = inputs?.tags;
  return (
    JSON.stringify(typeof tags === "object" && tags !== null ? (tags as Record<string, unknown>)[key] : undefined) ?? ""
  );
};

/** Whether an update changes only harmless fields (and is known to change something). */
export function onlyHarmless(step: PreviewStep, changed: readonly string[]): boolean {
  if (step.op !== "update" || changed.length === 0) return false;
  if (!changed.every((p) => HARMLESS_FIELDS.includes(topLevel(p)))) return false;
  const [olds, news] = [step.oldState?.inputs, step.newState?.inputs];
  return LIFECYCLE_TAGS.every((key) => tagValue(olds, key) === tagValue(news, key));
}

/** Ops whose new inputs are checked for exposure: the resource exists afterwards with them. */
const EXPOSURE_OPS = ["create", "update", "replace", "create-replacement", "import"];

export function assess(step: PreviewStep, context?: ExposureContext): Assessment {
  const { type, name } = urnParts(step.urn);
  const changed = changedProperties(step);
  const dangers: string[] = [];
  const notes: string[] = [];
  const kind = statefulKind(type);
  const replacing = step.op === "replace" || step.op === "create-replacement" || step.op === "delete-replaced";
  if (kind && DESTRUCTIVE_OPS.includes(step.op)) {
    const why = step.replaceReasons?.length ? ` (replaced because of ${step.replaceReasons.join(", ")})` : "";
    dangers.push(`${replacing ? "replaces" : "deletes"} stateful ${kind}${why}`);
  }
  if (step.oldState?.protect && !NO_CHANGE_OPS.includes(step.op)) {
    if (onlyHarmless(step, changed))
      notes.push(`updates only harmless fields of a protected resource (${changed.join(", ")})`);
    else dangers.push(`${step.op}s a protected resource`);
  }
  if (step.oldState?.protect && step.newState && step.newState.protect === false) {
    dangers.push("removes protect from the resource");
  }
  const resized = changed.filter((p) => SIZE_PROPERTY.test(p));
  if (SIZED_TYPE.test(type) && resized.length > 0 && step.op !== "create" && step.op !== "delete") {
    notes.push(`size change: ${resized.join(", ")}`);
  }
  const gpus = gpuTypesIn(step.op === "delete" ? step.oldState?.inputs : step.newState?.inputs);
  if (gpus.length > 0 && (step.op === "create" || step.op === "delete" || resized.length > 0)) {
    notes.push(`GPU capacity (${gpus.join(", ")})`);
  }
  const exposures = EXPOSURE_OPS.includes(step.op)
    ? exposure.exposureChanges(
        step.newState?.type ?? type,
        step.op === "create" ? undefined : step.oldState?.inputs,
        step.newState?.inputs,
        context,
      )
    : [];
  return { type, name, op: step.op, changed, dangers, exposures, notes };
}
