import { type PreviewStep, urnParts } from "./preview.ts";

/**
 * The committed price table the gate's cost estimate comes from. Figures are list prices for
 * pay-as-you-go in mainland China regions, in CNY per hour; a month is 730 hours.
 *
 * CPU instance types are priced from their vCPU and memory at Alibaba Cloud's published per-unit
 * prices for ECI (0.1764 CNY per vCPU-hour, 0.0221 CNY per GiB-hour; ECI billing page below), which
 * approximate ECS pay-as-you-go for the g/c/r families. GPU types have no verified price here and are
 * listed as unpriced rather than guessed. Refresh with the pricing calculator before relying on it.
 */
export const PRICE_TABLE = {
  currency: "CNY",
  hoursPerMonth: 730,
  retrieved: "2026-11-22",
  sources: [
    "https://www.alibabacloud.com/help/en/eci/product-overview/elastic-container-instances (ECI vCPU and memory unit prices)",
    "https://www.alibabacloud.com/help/en/ack/ack-managed-and-ack-dedicated/product-overview/billing-of-ack-pro-clusters (ACK Pro cluster fee; not re-read here)",
  ],
  perVcpuHour: 0.1764,
  perGibHour: 0.0221,
  /** GiB of memory per vCPU by ECS family letter: compute, general purpose, memory optimised. */
  gibPerVcpu: { c: 2, g: 4, r: 8 } as Record<string, number>,
  /** Fixed hourly fees by resource type (and variant). */
  fixedHourly: {
    "alicloud:cs/managedKubernetes:ManagedKubernetes/ack.pro.small": 0.64,
  } as Record<string, number>,
} as const;

const SIZE_VCPUS: Record<string, number> = { large: 2, xlarge: 4 };

/** vCPUs of an ECS size suffix: large 2, xlarge 4, <n>xlarge 4n. */
function vcpus(size: string): number | undefined {
  if (SIZE_VCPUS[size] !== undefined) return SIZE_VCPUS[size];
  const match = /^(\d+)xlarge$/.exec(size);
  return match ? Number(match[1]) * 4 : undefined;
}

/** Hourly price of an ECS instance type, or undefined when the table cannot price it (GPU types). */
export function instanceHourly(instanceType: string): number | undefined {
  const match = /^ecs\.([cgr])\d+[a-z]*\.([0-9a-z]+)$/.exec(instanceType);
  if (!match) return undefined;
  const [, family, size] = match;
  const cpus = vcpus(size as string);
  const ratio = PRICE_TABLE.gibPerVcpu[family as string];
  if (cpus === undefined || ratio === undefined) return undefined;
  return cpus * PRICE_TABLE.perVcpuHour + cpus * ratio * PRICE_TABLE.perGibHour;
}

export interface CostLine {
  readonly urn: string;
  readonly what: string;
  /** Signed monthly change; undefined when unpriced. */
  readonly monthly: number | undefined;
}

const text = (value: unknown): string | undefined => (typeof value === "string" && value !== "" ? value : undefined);
/** A count from a number or numeric string; anything else counts as unknown (NaN), never throws. */
const count = (value: unknown): number =>
  typeof value === "number" || typeof value === "string" ? Number(value) : Number.NaN;

/** Monthly price of one resource's inputs; undefined if it costs something the table lacks, null if free here. */
function monthlyOf(
  type: string,
  inputs: Record<string, unknown>,
): { what: string; monthly: number | undefined } | null {
  const month = PRICE_TABLE.hoursPerMonth;
  const instanceType = text(inputs.instanceType);
  if (type === "alicloud:ecs/instance:Instance" && instanceType) {
    const hourly = instanceHourly(instanceType);
    return { what: instanceType, monthly: hourly === undefined ? undefined : hourly * month };
  }
  const firstType = Array.isArray(inputs.instanceTypes) ? text(inputs.instanceTypes[0]) : undefined;
  if (type === "alicloud:cs/nodePool:NodePool" && firstType) {
    const scaling = inputs.scalingConfig as Record<string, unknown> | null | undefined;
    const given =
      inputs.desiredSize ?? inputs.nodeCount ?? (typeof scaling === "object" ? scaling?.minSize : undefined);
    const nodes = given === undefined || given === null ? 0 : count(given);
    const hourly = Number.isFinite(nodes) ? instanceHourly(firstType) : undefined;
    return { what: `${nodes} × ${firstType}`, monthly: hourly === undefined ? undefined : hourly * nodes * month };
  }
  const spec = text(inputs.clusterSpec);
  const fixed = spec === undefined ? undefined : PRICE_TABLE.fixedHourly[`${type}/${spec}`];
  if (fixed !== undefined) return { what: `${spec} cluster fee`, monthly: fixed * month };
  if (type === "alicloud:elasticsearch/instance:Instance")
    return { what: "Elasticsearch instance", monthly: undefined };
  return null;
}

/** Cost lines for what the preview creates (+) and deletes (−); replacements and updates are left out. */
export function costLines(steps: readonly PreviewStep[]): CostLine[] {
  return steps.flatMap((step) => {
    const sign = step.op === "create" ? 1 : step.op === "delete" ? -1 : 0;
    if (sign === 0) return [];
    const state = sign > 0 ? step.newState : step.oldState;
    const priced = monthlyOf(state?.type ?? urnParts(step.urn).type, state?.inputs ?? {});
    if (!priced) return [];
    return [
      { urn: step.urn, what: priced.what, monthly: priced.monthly === undefined ? undefined : sign * priced.monthly },
    ];
  });
}
