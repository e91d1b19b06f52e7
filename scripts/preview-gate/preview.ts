import { z } from "zod";

/**
 * The parts of `pulumi preview --json` the gate reads (pulumi/pulumi pkg/display/json.go): top level
 * `{steps[], diagnostics[], changeSummary}`, each step `{op, urn, oldState, newState, diffReasons,
 * replaceReasons, detailedDiff}`, states being ResourceV3 (`type, inputs, protect, …`). Every field the
 * gate reads is in this one schema; fields it does not read pass through unchecked.
 */

const strings = z.array(z.string()).nullish();
const props = z.record(z.string(), z.unknown()).nullish();

const stateSchema = z
  .looseObject({ type: z.string().nullish(), inputs: props, outputs: props, protect: z.boolean().nullish() })
  .nullish();

const stepSchema = z.looseObject({
  op: z.string(),
  urn: z.string(),
  oldState: stateSchema,
  newState: stateSchema,
  diffReasons: strings,
  replaceReasons: strings,
  detailedDiff: z.record(z.string(), z.looseObject({ kind: z.string().nullish() })).nullish(),
});

const diagnosticSchema = z.looseObject({ urn: z.string().nullish(), message: z.string(), severity: z.string() });

const previewSchema = z.looseObject({
  steps: z.array(stepSchema).nullish(),
  diagnostics: z.array(diagnosticSchema).nullish(),
  changeSummary: z.record(z.string(), z.number()).nullish(),
});

export type ResourceState = NonNullable<z.infer<typeof stateSchema>>;
export type PreviewStep = z.infer<typeof stepSchema>;
export type PreviewDiagnostic = z.infer<typeof diagnosticSchema>;

export interface Preview {
  readonly steps: PreviewStep[];
  readonly diagnostics: PreviewDiagnostic[];
  readonly changeSummary: Record<string, number>;
}

/** Bad input: reported as one line naming what was wrong, never as a stack trace. */
export class GateInputError extends Error {}

/** `steps[3].oldState.protect`. */
const pathText = (path: readonly PropertyKey[]): string =>
  path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join("");

const kindOf = (value: unknown): string =>
  value === undefined ? "missing" : value === null ? "null" : Array.isArray(value) ? "array" : typeof value;

const EXPECTED: Record<string, string> = {
  array: "an array",
  object: "an object",
  record: "an object",
  string: "a string",
  number: "a number",
  boolean: "true or false",
};

/** One issue as one line: the field, what it is, what was expected. */
function issueText(issue: z.core.$ZodIssue): string {
  const field = `"${pathText(issue.path)}"`;
  if (issue.code === "invalid_type") {
    const expected = EXPECTED[issue.expected] ?? issue.expected;
    return `${field} is ${kindOf(issue.input)}; expected ${expected}`;
  }
  return `${field}: ${issue.message.replace(/\s+/g, " ")}`;
}

export function parsePreview(text: string, source: string): Preview {
  if (text.trim() === "") {
    throw new GateInputError(`${source} is empty; expected the output of \`pulumi preview --json\``);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new GateInputError(
      `${source} is not JSON (${(error as Error).message.replace(/\s+/g, " ")}); expected the output of \`pulumi preview --json\``,
    );
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new GateInputError(
      `${source}: expected a JSON object with "steps", got ${JSON.stringify(value)?.slice(0, 40)}`,
    );
  }
  if (!("steps" in value) && !("changeSummary" in value)) {
    throw new GateInputError(`${source}: has neither "steps" nor "changeSummary"; is this preview JSON?`);
  }
  const parsed = previewSchema.safeParse(value, { reportInput: true });
  if (!parsed.success) {
    const [first] = parsed.error.issues;
    const more = parsed.error.issues.length > 1 ? ` (and ${parsed.error.issues.length - 1} more)` : "";
    throw new GateInputError(`${source}: ${first ? issueText(first) : "does not fit preview JSON"}${more}`);
  }
  const { steps, diagnostics, changeSummary } = parsed.data;
  return { steps: steps ?? [], diagnostics: diagnostics ?? [], changeSummary: changeSummary ?? {} };
}

/** `urn:pulumi:<stack>::<project>::<parent$…$type>::<name>` → type and name. */
export function urnParts(urn: string): { type: string; name: string } {
  const parts = urn.split("::");
  const qualified = parts[2] ?? "";
  return { type: qualified.split("$").pop() ?? qualified, name: parts.slice(3).join("::") };
}
