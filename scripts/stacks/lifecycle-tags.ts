/**
 * Stack tags that mark a stack's lifecycle, and the teardown's decision. scripts/new-ephemeral-stack.sh
 * sets the tags with `pulumi stack tag set`; the file backend stores tags since Pulumi v3.211
 * (`<stack>.pulumi-tags`). Tags are one source among several: a mistaken `pulumi stack tag set` must
 * not be enough to destroy a long-lived stack, so the decision also reads the stack's files,
 * the config of its last update as the backend recorded it, and the resources in its state.
 */
export const TAG = {
  /** The marker: only stacks carrying it with value "true" are ever torn down. */
  ephemeral: "ephemeral",
  environment: "environment",
  expiresAt: "expires-at",
  owner: "owner",
} as const;

/** Long-lived stacks by name: never torn down, whatever their tags say. `prod` is always among them. */
export const DEFAULT_PROTECTED_STACKS: readonly string[] = ["prod", "dev"];

export interface StackFile {
  /** The file name, e.g. Pulumi.dev.yaml. */
  readonly file: string;
  /** Its `<project>:environment`, when set. */
  readonly environment?: string;
  /**
   * Whether it has a `config` section. A file with only `encryptionsalt` (the passphrase provider
   * writes one for every stack it creates) says nothing about the environment.
   */
  readonly hasConfig: boolean;
  /** Set when the file exists but cannot be read as YAML. */
  readonly error?: string;
}

export interface StackFacts {
  readonly name: string;
  readonly tags: Readonly<Record<string, string>>;
  /**
   * Versions of `Pulumi.<stack>.yaml`: the committed one, and a working copy that differs or was never
   * committed (scripts/stacks/stack-files.ts). Each must agree.
   */
  readonly stackFiles?: readonly StackFile[];
  /** `<project>:environment` of the stack's last update, as the backend's update history holds it. */
  readonly backendEnvironment?: string;
  /** Distinct `environment` tags of the resources in the stack's state. */
  readonly stateEnvironments?: readonly string[];
  /** URNs of resources in the stack's state that carry `protect`. */
  readonly protectedResources?: readonly string[];
}

export interface DecideOptions {
  /** Stack names never torn down; `prod` is added to whatever is given. */
  readonly protectedStacks?: readonly string[];
  /**
   * The stack is due now, whatever its `expires-at` says (a closed PR's stack, `teardown --only`):
   * every other keep rule still applies.
   */
  readonly ignoreExpiry?: boolean;
}

export type Decision =
  | { readonly action: "destroy"; readonly reason: string; readonly expiresAt?: string }
  | { readonly action: "keep"; readonly reason: string };

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/**
 * An RFC 3339 date-time with a time zone (section 5.6), and nothing else: no date alone, no missing
 * seconds, no local time, no day 31 of a 30-day month. Returns epoch milliseconds, or undefined.
 * Date.parse is not used to decide: it reads free text such as "ttl 12" as a date.
 */
export function parseRfc3339(value: unknown): number | undefined {
  if (typeof value !== "string") return undefined;
  const match = RFC3339.exec(value);
  if (!match) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as number[];
  const [, , , , , , , fraction, zulu, sign, offsetHours, offsetMinutes] = match;
  if (month! < 1 || month! > 12 || hour! > 23 || minute! > 59 || second! > 59) return undefined;
  const daysInMonth = new Date(Date.UTC(year!, month!, 0)).getUTCDate();
  if (day! < 1 || day! > daysInMonth) return undefined;
  const offset = zulu ? 0 : Number(offsetHours) * 60 + Number(offsetMinutes);
  if (!zulu && (Number(offsetHours) > 23 || Number(offsetMinutes) > 59)) return undefined;
  const utc = Date.UTC(year!, month! - 1, day!, hour!, minute!, second!, Math.floor(Number(fraction ?? 0) * 1000));
  // Date.UTC maps years 0-99 to 1900-1999; such expiries are long past either way.
  return utc - (sign === "-" ? -offset : offset) * 60_000;
}

const shortName = (name: string) => name.split("/").pop()?.toLowerCase() ?? name;

/**
 * Whether a stack is an expired ephemeral one. Anything uncertain is kept: a long-lived name, a stack
 * file or state that says otherwise, a missing marker, a source of the environment that is not
 * "ephemeral", an expiry that is not RFC 3339 or not yet past (unless `ignoreExpiry`).
 */
export function decide(stack: StackFacts, now: Date, options: DecideOptions = {}): Decision {
  const { tags } = stack;
  const keep = (reason: string): Decision => ({ action: "keep", reason });
  const protectedNames = new Set(["prod", ...(options.protectedStacks ?? DEFAULT_PROTECTED_STACKS)].map(shortName));
  if (protectedNames.has(shortName(stack.name))) return keep(`stack name "${stack.name}" is long-lived (protected)`);
  const files = stack.stackFiles ?? [];
  for (const file of files) {
    if (file.error !== undefined) return keep(`${file.file} cannot be read (${file.error})`);
    if (file.hasConfig && file.environment !== "ephemeral") {
      return keep(`${file.file} sets environment ${JSON.stringify(file.environment)}, not "ephemeral"`);
    }
  }
  const guarded = stack.protectedResources ?? [];
  if (guarded.length > 0) {
    return keep(`its state holds ${guarded.length} protected resource(s), e.g. ${guarded[0]}`);
  }
  if (tags[TAG.ephemeral] !== "true") return keep(`no ${TAG.ephemeral}=true marker`);
  const sources: [string, string | undefined][] = [
    [`${TAG.environment} tag`, tags[TAG.environment]],
    ...files.filter((f) => f.hasConfig).map((f): [string, string | undefined] => [f.file, f.environment]),
    ...(stack.backendEnvironment !== undefined
      ? ([["the last update's config", stack.backendEnvironment]] as [string, string][])
      : []),
    ...(stack.stateEnvironments ?? []).map((e): [string, string] => ["a resource's environment tag", e]),
  ];
  if (sources.some(([, value]) => value === "prod")) return keep("environment is prod");
  const disagreeing = sources.filter(([, value]) => value !== "ephemeral");
  if (disagreeing.length > 0) {
    return keep(
      `${disagreeing.map(([source, value]) => `${source} is ${JSON.stringify(value)}`).join(", ")}, not "ephemeral"`,
    );
  }
  const expiresAt = tags[TAG.expiresAt];
  if (options.ignoreExpiry) {
    return { action: "destroy", reason: "due now (requested by name; expires-at not consulted)" };
  }
  const expiry = parseRfc3339(expiresAt);
  if (expiry === undefined) {
    return keep(`no valid ${TAG.expiresAt} tag (${JSON.stringify(expiresAt)}; expected RFC 3339 with a time zone)`);
  }
  if (expiry > now.getTime()) return keep(`not expired (expires ${expiresAt})`);
  return { action: "destroy", reason: `expired at ${expiresAt}`, expiresAt: expiresAt as string };
}
