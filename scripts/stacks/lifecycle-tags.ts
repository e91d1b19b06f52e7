/**
 * Stack tags that mark a stack's lifecycle. scripts/new-ephemeral-stack.sh sets them with
 * `pulumi stack tag set`; the file backend stores tags since Pulumi v3.211 (`<stack>.pulumi-tags`).
 * Tags live in the backend, so the nightly teardown can read them without the stack's config file.
 */
export const TAG = {
  /** The marker: only stacks carrying it with value "true" are ever torn down. */
  ephemeral: "ephemeral",
  environment: "environment",
  expiresAt: "expires-at",
  owner: "owner",
} as const;

export interface StackFacts {
  readonly name: string;
  readonly tags: Readonly<Record<string, string>>;
  /** `search-backbone:environment` from the stack's config file, when one is on disk. */
  readonly configEnvironment?: string;
}

export type Decision =
  | { readonly action: "destroy"; readonly reason: string; readonly expiresAt: string }
  | { readonly action: "keep"; readonly reason: string };

/** Whether a stack is an expired ephemeral one. Anything uncertain is kept. */
export function decide(stack: StackFacts, now: Date): Decision {
  const { tags } = stack;
  if (tags[TAG.ephemeral] !== "true") return { action: "keep", reason: `no ${TAG.ephemeral}=true marker` };
  const environments = [tags[TAG.environment], stack.configEnvironment].filter((e) => e !== undefined);
  if (environments.includes("prod")) return { action: "keep", reason: "environment is prod" };
  if (tags[TAG.environment] !== "ephemeral") {
    return {
      action: "keep",
      reason: `${TAG.environment} tag is ${JSON.stringify(tags[TAG.environment])}, not "ephemeral"`,
    };
  }
  const expiresAt = tags[TAG.expiresAt];
  const expiry = expiresAt === undefined ? Number.NaN : Date.parse(expiresAt);
  if (expiresAt === undefined || Number.isNaN(expiry))
    return { action: "keep", reason: `no valid ${TAG.expiresAt} tag (${JSON.stringify(expiresAt)})` };
  if (expiry > now.getTime()) return { action: "keep", reason: `not expired (expires ${expiresAt})` };
  return { action: "destroy", reason: `expired at ${expiresAt}`, expiresAt };
}
