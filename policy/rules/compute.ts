import { resourceRule, stackRule } from "../define";
import { environmentOf } from "../facts";
import { type ResourceView, TYPES } from "../types";

export const SPOT_STRATEGIES = ["SpotAsPriceGo", "SpotWithPriceLimit"];

/**
 * GPUs per gn7i instance type (NVIDIA A10), from Alibaba Cloud's GPU instance family table
 * (https://www.alibabacloud.com/help/en/ecs/user-guide/gpu-accelerated-compute-optimized-and-vgpu-accelerated-instance-families-1).
 * `gn7i-<n>x.*` carries n GPUs; other GPU types count as one, the least they can have.
 */
const GN7I_GPUS: Readonly<Record<string, number>> = {
  "ecs.gn7i-c8g1.2xlarge": 1,
  "ecs.gn7i-c16g1.4xlarge": 1,
  "ecs.gn7i-c32g1.8xlarge": 1,
  "ecs.gn7i-c48g1.12xlarge": 1,
  "ecs.gn7i-c56g1.14xlarge": 1,
  "ecs.gn7i-c32g1.16xlarge": 2,
  "ecs.gn7i-c32g1.32xlarge": 4,
};

export const isGpuType = (instanceType: unknown): boolean =>
  typeof instanceType === "string" && /^ecs\.(gn|vgn|sgn|ebmgn)/.test(instanceType);

export function gpusPerInstance(instanceType: string): number {
  if (!isGpuType(instanceType)) return 0;
  const multi = /^ecs\.gn7i-(\d+)x\./.exec(instanceType);
  return GN7I_GPUS[instanceType] ?? (multi ? Number(multi[1]) : 1);
}

const gpuTypesOf = (r: ResourceView): string[] =>
  r.type === TYPES.ecsInstance
    ? [r.props.instanceType].filter(isGpuType)
    : r.type === TYPES.nodePool
      ? (r.props.instanceTypes ?? []).filter(isGpuType)
      : [];

export const gpuSpotOutsideProd = resourceRule(
  {
    name: "gpu-spot-outside-prod",
    description: "GPU instances outside prod run on spot capacity.",
    enforcementLevel: "mandatory",
  },
  (resource, facts, report) => {
    const types = gpuTypesOf(resource);
    if (types.length === 0 || environmentOf(resource.props, facts) === "prod") return;
    if (!SPOT_STRATEGIES.includes(resource.props.spotStrategy)) {
      report(
        `GPU ${types.join(", ")} outside prod uses spotStrategy ${resource.props.spotStrategy ?? "NoSpot"}; expected ${SPOT_STRATEGIES.join(" or ")}`,
      );
    }
  },
);

/** GPUs a resource can run at most: one instance, or a node pool's largest size. */
export function gpuCount(r: ResourceView): number {
  const [type] = gpuTypesOf(r);
  if (!type) return 0;
  if (r.type === TYPES.ecsInstance) return gpusPerInstance(type);
  const nodes = Number(r.props.scalingConfig?.maxSize ?? r.props.desiredSize ?? r.props.nodeCount ?? 0);
  return nodes * gpusPerInstance(type);
}

export const gpuBudgetAdvisory = stackRule(
  {
    name: "gpu-budget",
    description: "Advisory: the stack runs no more GPUs than its budget (policy config gpuBudget).",
    enforcementLevel: "advisory",
  },
  (resources, facts, report) => {
    const total = resources.reduce((sum, r) => sum + gpuCount(r), 0);
    if (total > facts.gpuBudget) {
      report(`the stack runs up to ${total} GPUs; its budget is ${facts.gpuBudget} (policy config gpuBudget)`);
    }
  },
);
