/**
 * The parts of `pulumi preview --json` the gate reads (pulumi/pulumi pkg/display/json.go): top level
 * `{steps[], diagnostics[], changeSummary}`, each step `{op, urn, oldState, newState, diffReasons,
 * replaceReasons, detailedDiff}`, states being ResourceV3 (`type, inputs, protect, …`).
 */

export interface ResourceState {
  readonly type?: string;
  readonly inputs?: Record<string, any>;
  readonly outputs?: Record<string, any>;
  readonly protect?: boolean;
}

export interface PreviewStep {
  readonly op: string;
  readonly urn: string;
  readonly oldState?: ResourceState;
  readonly newState?: ResourceState;
  readonly diffReasons?: string[];
  readonly replaceReasons?: string[];
  readonly detailedDiff?: Record<string, { kind: string }> | null;
}

export interface PreviewDiagnostic {
  readonly urn?: string;
  readonly message: string;
  readonly severity: string;
}

export interface Preview {
  readonly steps: PreviewStep[];
  readonly diagnostics: PreviewDiagnostic[];
  readonly changeSummary: Record<string, number>;
}

/** Bad input: reported as one line naming what was wrong, never as a stack trace. */
export class GateInputError extends Error {}

export function parsePreview(text: string, source: string): Preview {
  if (text.trim() === "") {
    throw new GateInputError(`${source} is empty; expected the output of \`pulumi preview --json\``);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new GateInputError(
      `${source} is not JSON (${(error as Error).message}); expected the output of \`pulumi preview --json\``,
    );
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new GateInputError(
      `${source}: expected a JSON object with "steps", got ${JSON.stringify(value)?.slice(0, 40)}`,
    );
  }
  const { steps = [], diagnostics = [], changeSummary = {} } = value as Record<string, unknown>;
  if (!Array.isArray(steps)) throw new GateInputError(`${source}: "steps" is ${typeof steps}; expected an array`);
  for (const [i, step] of steps.entries()) {
    if (typeof step?.op !== "string" || typeof step?.urn !== "string") {
      throw new GateInputError(`${source}: steps[${i}] has no "op" and "urn" strings; is this preview JSON?`);
    }
  }
  if (!Array.isArray(diagnostics)) throw new GateInputError(`${source}: "diagnostics" is not an array`);
  if (!("steps" in (value as object)) && !("changeSummary" in (value as object))) {
    throw new GateInputError(`${source}: has neither "steps" nor "changeSummary"; is this preview JSON?`);
  }
  return { steps, diagnostics, changeSummary: (changeSummary ?? {}) as Record<string, number> };
}

/** `urn:pulumi:<stack>::<project>::<parent$…$type>::<name>` → type and name. */
export function urnParts(urn: string): { type: string; name: string } {
  const parts = urn.split("::");
  const qualified = parts[2] ?? "";
  return { type: qualified.split("$").pop() ?? qualified, name: parts.slice(3).join("::") };
}
