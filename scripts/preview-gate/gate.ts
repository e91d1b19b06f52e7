import { type Assessment, assess } from "./classify.ts";
import { exposure } from "./exposure.ts";
import type { GateResult } from "./markdown.ts";
import { type PreviewStep, parsePreview } from "./preview.ts";
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

/** Dangers of an assessment, exposure changes included. */
export const dangerCount = (a: Assessment): number => a.dangers.length + a.exposures.length;

/**
 * The stack's VPC ranges, from the VPCs the preview holds (a CIDR that is still unknown is skipped);
 * RFC 1918 when it holds none, which is where stacks/config requires a VPC to lie.
 */
export function vpcCidrsOf(steps: readonly PreviewStep[]): string[] {
  const cidrs = steps
    .filter((s) => (s.newState?.type ?? s.oldState?.type) === "alicloud:vpc/network:Network")
    .flatMap((s) => {
      const inputs = s.newState?.inputs ?? s.oldState?.inputs ?? {};
      const secondary = inputs.secondaryCidrBlocks;
      return [inputs.cidrBlock, ...(Array.isArray(secondary) ? secondary : [])];
    })
    .filter((c): c is string => exposure.parseCidr(c) !== undefined);
  return cidrs.length > 0 ? [...new Set(cidrs)] : [...exposure.PRIVATE_RANGES];
}

/** Reads preview JSON and decides. Throws GateInputError on input that is not preview JSON. */
export function runGate(text: string, options: GateOptions): GateResult {
  const preview = parsePreview(text, options.source ?? "the preview JSON");
  const context = { vpcCidrs: vpcCidrsOf(preview.steps) };
  const assessments: Assessment[] = preview.steps.map((step) => assess(step, context));
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
      exposures: [],
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
      exposures: [],
      notes: [],
    });
  }
  const override = options.allowDangerous
    ? "--allow-dangerous"
    : options.labels?.includes(OVERRIDE_LABEL)
      ? `label ${OVERRIDE_LABEL}`
      : undefined;
  const dangerous = assessments.some((a) => dangerCount(a) > 0);
  return {
    stack: options.stack,
    preview,
    assessments,
    costs: costLines(preview.steps),
    blocked: dangerous && override === undefined,
    override: dangerous ? override : undefined,
  };
}
