import type {
  EnforcementLevel,
  PolicyConfigSchema,
  PolicyResource,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import { type PolicySettings, type StackFacts, stackFacts } from "./facts";
import type { Report, ResourceView } from "./types";

/**
 * Rules are plain functions of a resource (or all resources) and the stack's facts; these wrap them
 * into @pulumi/policy objects. Unit tests call the objects' validate functions directly.
 */

export interface RuleMeta {
  readonly name: string;
  readonly description: string;
  readonly enforcementLevel: EnforcementLevel;
}

/** Every rule accepts the same optional settings; see facts.ts. */
const CONFIG_SCHEMA: PolicyConfigSchema = {
  properties: {
    environment: { type: "string", enum: ["dev", "prod", "ephemeral"] },
    publicPorts: { type: "array", items: { type: "integer", minimum: 1, maximum: 65535 } },
    gpuBudget: { type: "integer", minimum: 0 },
  },
};

const view = (r: ResourceValidationArgs | PolicyResource): ResourceView => ({
  type: r.type,
  name: r.name,
  urn: r.urn,
  props: r.props ?? {},
  protect: r.opts?.protect ?? false,
});

export function resourceRule(
  meta: RuleMeta,
  check: (resource: ResourceView, facts: StackFacts, report: Report) => void,
): ResourceValidationPolicy {
  return {
    ...meta,
    configSchema: CONFIG_SCHEMA,
    validateResource: (args, report) =>
      check(view(args), stackFacts(args.getConfig<PolicySettings>(), args.stackTags), report),
  };
}

export function stackRule(
  meta: RuleMeta,
  check: (resources: readonly ResourceView[], facts: StackFacts, report: Report) => void,
): StackValidationPolicy {
  return {
    ...meta,
    configSchema: CONFIG_SCHEMA,
    validateStack: (args: StackValidationArgs, report) =>
      check(args.resources.map(view), stackFacts(args.getConfig<PolicySettings>(), args.stackTags), report),
  };
}
