/**
 * RAM policy documents as plain data, and the checks every rendered document must pass.
 *
 * Format (Version "1", Statement[] of Effect/Action/Resource/Condition; explicit Deny wins) per
 * "How OSS works with RAM", https://www.alibabacloud.com/help/en/oss/user-guide/how-oss-works-with-ram [V]. RAM rejects custom policy documents over 6,144
 * bytes (the limit @pulumi/alicloud 3.108.0 documents on `ram.Policy.policyDocument`).
 */

export type Condition = Record<string, Record<string, string | string[]>>;

export interface Statement {
  readonly Effect: "Allow" | "Deny";
  readonly Action: string | readonly string[];
  readonly Resource: string | readonly string[];
  readonly Condition?: Condition;
}

export interface PolicyDocument {
  readonly Version: "1";
  readonly Statement: readonly Statement[];
}

export const MAX_POLICY_BYTES = 6144;

export const asList = (value: string | readonly string[]): readonly string[] =>
  typeof value === "string" ? [value] : value;

/** `svc:*` (every action of a service). */
const SERVICE_WILDCARD = /^[a-z0-9-]+:\*$/;

/**
 * An OSS ARN naming a bucket, optionally an object path within it. The bucket part must start with
 * at least three literal characters (a real name, or the stack's name prefix); a bare `*` bucket
 * (`acs:oss:*:*:*`) is what this whole module exists to prevent.
 */
const OSS_ARN = /^acs:oss:\*:(\d+|\*):([a-z0-9][a-z0-9-]{2,}[a-z0-9-*]*)(\/.*)?$/;

export function ossArnProblem(arn: string): string | undefined {
  const match = OSS_ARN.exec(arn);
  if (!match) return `${arn} is not a bucket-scoped OSS ARN (acs:oss:*:<account>:<bucket>[/<prefix>/*])`;
  const path = match[3];
  if (path !== undefined && (path === "/" || path.startsWith("//"))) return `${arn} has an empty object path`;
  return undefined;
}

/**
 * Throws unless the document keeps to the invariants the project relies on; returns it otherwise,
 * so renderers can `return assertLeastPrivilege({...})`.
 *  - no Action `*`, anywhere;
 *  - no `svc:*` Action on Resource `*` (and no Resource `*` paired with a wildcard action);
 *  - every OSS resource bucket-scoped (see ossArnProblem);
 *  - no NotAction/NotResource (they widen silently), Effect Allow or Deny, non-empty lists;
 *  - at most MAX_POLICY_BYTES when serialised.
 */
export function assertLeastPrivilege<T extends PolicyDocument>(doc: T): T {
  const problems: string[] = [];
  if (doc.Version !== "1") problems.push(`Version must be "1", got ${JSON.stringify(doc.Version)}`);
  if (!Array.isArray(doc.Statement) || doc.Statement.length === 0) problems.push("Statement must be a non-empty list");
  (doc.Statement ?? []).forEach((statement, i) => {
    const at = `Statement[${i}]`;
    const raw = statement as unknown as Record<string, unknown>;
    for (const widening of ["NotAction", "NotResource", "NotPrincipal", "Principal"]) {
      if (widening in raw) problems.push(`${at} uses ${widening}, which identity policies must not`);
    }
    if (statement.Effect !== "Allow" && statement.Effect !== "Deny")
      problems.push(`${at} has Effect ${statement.Effect}`);
    const actions = asList(statement.Action ?? []);
    const resources = asList(statement.Resource ?? []);
    if (actions.length === 0) problems.push(`${at} has no Action`);
    if (resources.length === 0) problems.push(`${at} has no Resource`);
    if (statement.Effect !== "Allow") return;
    if (actions.includes("*")) problems.push(`${at} allows Action "*"`);
    if (resources.includes("*")) {
      for (const action of actions.filter((a) => SERVICE_WILDCARD.test(a))) {
        problems.push(`${at} allows ${action} on Resource "*"`);
      }
    }
    for (const resource of resources.filter((r) => r.startsWith("acs:oss:"))) {
      const problem = ossArnProblem(resource);
      if (problem) problems.push(`${at}: ${problem}`);
    }
    if (actions.some((a) => a.startsWith("oss:")) && resources.includes("*")) {
      problems.push(`${at} allows OSS actions on Resource "*"`);
    }
  });
  const bytes = Buffer.byteLength(JSON.stringify(doc), "utf8");
  if (bytes > MAX_POLICY_BYTES) problems.push(`document is ${bytes} bytes; RAM allows ${MAX_POLICY_BYTES}`);
  if (problems.length > 0) throw new Error(`policy is wider than allowed:\n  - ${problems.join("\n  - ")}`);
  return doc;
}
