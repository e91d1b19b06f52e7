import { resourceRule } from "../define";
import { environmentOf } from "../facts";
import { TYPES } from "../types";

/** Resources whose loss loses data or a long rebuild; prod must protect them. */
export const STATEFUL_TYPES: readonly string[] = [
  TYPES.bucket,
  TYPES.elasticsearch,
  TYPES.cluster,
  TYPES.ecsDisk,
  TYPES.legacyDisk,
  TYPES.pvc,
  "alicloud:nas/fileSystem:FileSystem",
];

export const protectStatefulProd = resourceRule(
  {
    name: "protect-stateful-prod",
    description: "Stateful resources in prod (buckets, search, the ACK cluster, disks) have protect: true.",
    enforcementLevel: "mandatory",
  },
  ({ type, props, protect }, facts, report) => {
    if (STATEFUL_TYPES.includes(type) && environmentOf(props, facts) === "prod" && !protect) {
      report(`stateful ${type} in prod is not protected; set the protect resource option`);
    }
  },
);

export const REQUIRED_TAGS = ["project", "stack", "environment", "owner"];

/** Alibaba Cloud types that take tags; any other alicloud resource with a `tags` input is checked too. */
export const TAGGABLE_TYPES: readonly string[] = [
  TYPES.bucket,
  TYPES.elasticsearch,
  TYPES.ecsInstance,
  TYPES.ecsDisk,
  TYPES.nodePool,
  TYPES.cluster,
  "alicloud:vpc/network:Network",
  "alicloud:vpc/switch:Switch",
  "alicloud:vpc/natGateway:NatGateway",
  "alicloud:ecs/eipAddress:EipAddress",
  "alicloud:ecs/securityGroup:SecurityGroup",
];

const isTimestamp = (value: unknown): boolean =>
  typeof value === "string" &&
  /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value) &&
  !Number.isNaN(Date.parse(value));

export const requiredTags = resourceRule(
  {
    name: "required-tags",
    description: `Taggable resources carry ${REQUIRED_TAGS.join(", ")}; on ephemeral stacks also a valid expires-at.`,
    enforcementLevel: "mandatory",
  },
  ({ type, props }, facts, report) => {
    const taggable = TAGGABLE_TYPES.includes(type) || (type.startsWith("alicloud:") && props.tags !== undefined);
    if (!taggable) return;
    const tags: Record<string, unknown> = props.tags ?? {};
    const missing = REQUIRED_TAGS.filter((key) => typeof tags[key] !== "string" || tags[key] === "");
    if (missing.length > 0) report(`missing tags: ${missing.join(", ")}`);
    if (environmentOf(props, facts) === "ephemeral" && !isTimestamp(tags["expires-at"])) {
      report(`ephemeral resource has expires-at ${JSON.stringify(tags["expires-at"])}; expected an RFC 3339 time`);
    }
  },
);
