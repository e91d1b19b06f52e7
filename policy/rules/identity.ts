import { resourceRule } from "../define";
import { TYPES } from "../types";

const asList = (value: unknown): unknown[] => (Array.isArray(value) ? value : value === undefined ? [] : [value]);

interface Statement {
  readonly effect: string;
  readonly actions: unknown[];
  readonly resources: unknown[];
}

/** A RAM policy's statements, from its JSON document or from the provider's `statements` input. */
export function statementsOf(props: Record<string, any>): Statement[] {
  const text = props.policyDocument ?? props.document;
  const fromDocument = typeof text === "string" ? asList(JSON.parse(text).Statement) : [];
  return [
    ...fromDocument.map((s: any) => ({ effect: s.Effect, actions: asList(s.Action), resources: asList(s.Resource) })),
    ...asList(props.statements).map((s: any) => ({
      effect: s.effect,
      actions: asList(s.actions),
      resources: asList(s.resources),
    })),
  ];
}

export const ramNoWildcardAdmin = resourceRule(
  {
    name: "ram-no-wildcard-admin",
    description: "No RAM policy allows every action (*) on every resource (*).",
    enforcementLevel: "mandatory",
  },
  ({ type, props }, _facts, report) => {
    if (type !== TYPES.ramPolicy) return;
    let statements: Statement[];
    try {
      statements = statementsOf(props);
    } catch (error) {
      report(`policy document is not valid JSON: ${(error as Error).message}`);
      return;
    }
    if (statements.some((s) => s.effect === "Allow" && s.actions.includes("*") && s.resources.includes("*"))) {
      report(
        `RAM policy ${props.policyName ?? props.name ?? ""} allows "*" on "*"; grant named actions on named resources`,
      );
    }
  },
);

export const noFullAccessOnWorkloadRole = resourceRule(
  {
    name: "no-fullaccess-on-workload-role",
    description: "No *FullAccess system policy is attached to a role (every role here is a workload role).",
    enforcementLevel: "mandatory",
  },
  ({ type, props }, _facts, report) => {
    if (type === TYPES.rolePolicyAttachment && props.policyType === "System" && /FullAccess$/.test(props.policyName)) {
      report(
        `role ${props.roleName ?? ""} gets system policy ${props.policyName}; attach a scoped custom policy instead`,
      );
    }
  },
);
