import { assess } from "./classify.ts";
import type { GateResult } from "./markdown.ts";
import { parsePreview } from "./preview.ts";
import { costLines } from "./prices.ts";

/** The PR label that lets a reviewed dangerous change through. */
export const OVERRIDE_LABEL = "allow-dangerous-changes";

export interface GateOptions {
  readonly stack: string;
  readonly source?: string;
  readonly allowDangerous?: boolean;
  readonly labels?: readonly string[];
  /**
   * `pulumi preview`'s exit status. Policy violations are not in the JSON (pulumi.md §4), so a failed
   * preview whose JSON shows no error is still reported, and blocks.
   */
  readonly previewStatus?: number;
}

/** Reads preview JSON and decides. Throws GateInputError on input that is not preview JSON. */
export function runGate(text: string, options: GateOptions): GateResult {
  const preview = parsePreview(text, options.source ?? "the preview JSON");
  const assessments = preview.steps.map(assess);
  // A failed preview (for example one that would delete a protected resource) is itself dangerous:
  // its steps are incomplete.
  for (const diagnostic of preview.diagnostics.filter((d) => d.severity === "error")) {
    const protectedResource = /protect/i.test(diagnostic.message);
    assessments.push({
      type: "preview",
      name: diagnostic.urn?.split("::").pop() ?? "preview",
      op: "error",
      changed: [],
      dangers: [protectedResource ? "the preview refused to touch a protected resource" : "the preview failed"],
      notes: [],
    });
  }
  const reported = preview.diagnostics.some((d) => d.severity === "error");
  if (options.previewStatus && !reported) {
    assessments.push({
      type: "preview",
      name: "pulumi preview",
      op: "error",
      changed: [],
      dangers: [`exited ${options.previewStatus}: a mandatory policy violation or an error; see the job log`],
      notes: [],
    });
  }
  const override = options.allowDangerous
    ? "--allow-dangerous"
    : options.labels?.includes(OVERRIDE_LABEL)
      ? `label ${OVERRIDE_LABEL}`
      : undefined;
  const dangerous = assessments.some((a) => a.dangers.length > 0);
  return {
    stack: options.stack,
    preview,
    assessments,
    costs: costLines(preview.steps),
    blocked: dangerous && override === undefined,
    override: dangerous ? override : undefined,
  };
}
