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
  /** Worth a reviewer's eye (cost, capacity); never blocks. */
  readonly notes: string[];
}

export const statefulKind = (type: string): string | undefined => STATEFUL.find((s) => s.type.test(type))?.kind;

/**
 * The properties a step changes: the provider's detailed diff when it gave one, else its diff and
 * replace reasons, else (providers such as dynamic ones report neither) the top-level inputs that differ.
 */
export function changedProperties(step: PreviewStep): string[] {
  if (step.detailedDiff && Object.keys(step.detailedDiff).length > 0) return Object.keys(step.detailedDiff).sort();
  const reasons = new Set([...(step.diffReasons ?? []), ...(step.replaceReasons ?? [])]);
  if (reasons.size > 0 || !step.oldState?.inputs || !step.newState?.inputs) return [...reasons].sort();
  const [olds, news] = [step.oldState.inputs, step.newState.inputs];
  return [...new Set([...Object.keys(olds), ...Object.keys(news)])]
    .filter((key) => key !== "__provider" && JSON.stringify(olds[key]) !== JSON.stringify(news[key]))
    .sort();
}

const isGpuType = (value: unknown): boolean => typeof value === "string" && /^ecs\.(gn|vgn|sgn|ebmgn)/.test(value);
const gpuTypesIn = (inputs: Record<string, any> | undefined): string[] =>
  [inputs?.instanceType, ...(inputs?.instanceTypes ?? [])].filter(isGpuType);

export function assess(step: PreviewStep): Assessment {
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
  if (step.oldState?.protect && !NO_CHANGE_OPS.includes(step.op)) dangers.push(`${step.op}s a protected resource`);
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
  return { type, name, op: step.op, changed, dangers, notes };
}
