import { resourceRule } from "../define";
import { FULL_ACCESS_POLICY, type Statement, statementsOf } from "../exposure";
import { TYPES } from "../types";

export { statementsOf };

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
    if (
      type === TYPES.rolePolicyAttachment &&
      props.policyType === "System" &&
      FULL_ACCESS_POLICY.test(props.policyName)
    ) {
      report(
        `role ${props.roleName ?? ""} gets system policy ${props.policyName}; attach a scoped custom policy instead`,
      );
    }
  },
);
