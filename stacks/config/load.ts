import { RunError } from "@pulumi/pulumi/errors";
import { z } from "zod";
import { BUCKET_PURPOSES, bucketName, ossBucketNameProblem } from "../naming";
import { deepMerge, defaultsFor } from "./defaults";
import { resolveConfig } from "./resolve";
import { crossFieldProblems, type Problem } from "./rules";
import { onExistingCluster } from "./rules-cluster";
import { type BackboneConfig, configSchema, ENVIRONMENTS, type EnvironmentKind } from "./schema";

export interface LoadContext {
  /** The Pulumi project name, which is also the config namespace. */
  readonly project: string;
  readonly stack: string;
}

/**
 * Thrown before any resource is registered; lists every problem found, not just the first.
 * A RunError, so the CLI prints the message alone rather than a stack trace.
 */
export class ConfigError extends RunError {
  constructor(
    readonly problems: readonly Problem[],
    readonly context: LoadContext,
    input: unknown,
  ) {
    super(formatProblems(problems, context, input));
    this.name = "ConfigError";
  }
}

/**
 * Validates a stack's raw configuration (keys without the namespace, values already parsed from
 * JSON) over the defaults of its environment kind, and returns the typed config components use, with
 * the values some keys leave to others already resolved (resolve.ts).
 */
export function loadConfig(raw: Record<string, unknown>, context: LoadContext): BackboneConfig {
  const kind = ENVIRONMENTS.find((env) => env === raw.environment);
  // With an invalid kind, dev defaults still let every other key be checked in the same run.
  const defaults = defaultsFor(kind ?? ("dev" as EnvironmentKind));
  // A stack on an existing cluster makes no VPC: its network keys may be left out (rules-cluster.ts).
  const base = onExistingCluster(raw) ? deepMerge(defaults, { network: { vswitches: [] } }) : defaults;
  const merged = deepMerge(base, raw) as Record<string, unknown>;
  // Pulumi.yaml defaults the optional `eas` block to {}: an empty block is an unset one.
  const { eas } = merged;
  if (eas && typeof eas === "object" && Object.keys(eas).length === 0) delete merged.eas;
  const parsed = configSchema.safeParse(merged);
  const problems = [
    ...(parsed.success ? [] : parsed.error.issues.flatMap((issue) => describeIssue(issue, merged))),
    ...crossFieldProblems(merged),
    ...namingProblems(merged, context.stack),
  ];
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems, context, merged);
  return resolveConfig(parsed.data);
}

function namingProblems(cfg: Record<string, unknown>, stack: string): Problem[] {
  if (typeof cfg.namePrefix !== "string") return [];
  const namePrefix = cfg.namePrefix;
  return BUCKET_PURPOSES.flatMap((purpose) => {
    const problem = ossBucketNameProblem(bucketName(namePrefix, stack, purpose));
    return problem
      ? [
          {
            path: ["namePrefix"],
            message: `expected a prefix that, with stack "${stack}", makes a valid bucket name: ${problem}`,
          },
        ]
      : [];
  }).slice(0, 1);
}

function describeIssue(issue: z.core.$ZodIssue, input: unknown): Problem[] {
  const path = issue.path.filter((p): p is string | number => typeof p !== "symbol");
  switch (issue.code) {
    case "unrecognized_keys":
      return issue.keys.map((key) => {
        const known = knownKeysAt(path);
        const hint = closest(key, known);
        return {
          path: [...path, key],
          message: `unknown key${hint ? ` (did you mean "${hint}"?)` : ""}; expected one of: ${known.join(", ")}`,
        };
      });
    case "invalid_key":
      return [{ path, message: issue.issues.map((inner) => inner.message).join("; ") }];
    case "invalid_type":
      return [
        {
          path,
          message:
            valueAt(input, path) === undefined
              ? `required key is missing; expected ${issue.expected}`
              : `expected ${issue.expected}`,
        },
      ];
    case "invalid_value":
      return [{ path, message: `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}` }];
    case "too_small":
      return [
        {
          path,
          message: issue.message.startsWith("expected")
            ? issue.message
            : `expected ${issue.origin === "array" ? "at least" : ">="} ${issue.minimum}${issue.origin === "array" ? " item(s)" : ""}`,
        },
      ];
    case "too_big":
      return [
        {
          path,
          message: `expected ${issue.origin === "array" ? "at most" : "<="} ${issue.maximum}${issue.origin === "array" ? " item(s)" : ""}`,
        },
      ];
    default:
      return [{ path, message: issue.message }];
  }
}

function knownKeysAt(path: readonly (string | number)[]): string[] {
  let schema: z.core.$ZodType = configSchema;
  for (const step of path) {
    schema = unwrap(schema);
    if (schema instanceof z.ZodObject) schema = schema.shape[step as string] ?? schema;
    else if (schema instanceof z.ZodArray) schema = schema.element;
  }
  schema = unwrap(schema);
  return schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];
}

function unwrap(schema: z.core.$ZodType): z.core.$ZodType {
  let current = schema;
  while (current instanceof z.ZodOptional || current instanceof z.ZodDefault) current = current.unwrap();
  return current;
}

/** The known key within edit distance 2 of a typo, if any. */
function closest(key: string, known: readonly string[]): string | undefined {
  let best: { key: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (distance <= 2 && (!best || distance < best.distance)) best = { key: candidate, distance };
  }
  return best?.key;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

function valueAt(input: unknown, path: readonly (string | number)[]): unknown {
  let current = input;
  for (const step of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<string | number, unknown>)[step];
  }
  return current;
}

export function configKey(project: string, path: readonly (string | number)[]): string {
  const [head, ...rest] = path;
  const tail = rest.map((p) => (typeof p === "number" ? `[${p}]` : `.${p}`)).join("");
  return `${project}:${head ?? ""}${tail}`;
}

/** Keys set as secrets: a problem with one never prints its value (it may be a pasted key). */
const SECRET_KEY = /^(password|apiKey|apiKeys|dashscopeApiKey|kubeconfig|opensearchSecurity|engineUserPasswords)$/;

function formatProblems(problems: readonly Problem[], context: LoadContext, input: unknown): string {
  const lines = problems.map((p) => {
    const value = valueAt(input, p.path);
    const secret = p.path.some((step) => typeof step === "string" && SECRET_KEY.test(step));
    const given =
      value === undefined
        ? "not set"
        : secret
          ? "given (secret, not shown)"
          : `given ${truncate(JSON.stringify(value))}`;
    return `  - ${configKey(context.project, p.path)}: ${given}; ${p.message}`;
  });
  const count = problems.length === 1 ? "1 problem" : `${problems.length} problems`;
  return [
    `Configuration of stack "${context.stack}" has ${count}; nothing was created:`,
    ...lines,
    `Fix them with 'pulumi config set --path <key> <value>' or in Pulumi.${context.stack}.yaml (README lists every key).`,
  ].join("\n");
}

function truncate(text: string, max = 80): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
