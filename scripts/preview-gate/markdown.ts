import type { Assessment } from "./classify.ts";
import type { Preview } from "./preview.ts";
import { type CostLine, PRICE_TABLE } from "./prices.ts";

/** The header the PR comment is found by, so the workflow edits it in place instead of adding another. */
export const commentMarker = (stack: string) => `<!-- preview-gate:${stack} -->`;

export interface GateResult {
  readonly stack: string;
  readonly preview: Preview;
  readonly assessments: Assessment[];
  readonly costs: CostLine[];
  readonly blocked: boolean;
  readonly override: string | undefined;
}

const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/\n/g, " ");
const money = (n: number) => `${n < 0 ? "−" : "+"}${Math.abs(n).toFixed(0)} ${PRICE_TABLE.currency}`;

/** Dangers in the result, exposure changes included. */
export const totalDangers = (result: Pick<GateResult, "assessments">): number =>
  result.assessments.reduce((n, a) => n + a.dangers.length + a.exposures.length, 0);

function verdict(result: GateResult): string {
  const dangers = totalDangers(result);
  if (dangers === 0) return "✅ **No dangerous change.**";
  if (result.override) return `⚠️ **${dangers} dangerous change(s), allowed by override: ${cell(result.override)}.**`;
  return `⛔ **${dangers} dangerous change(s): merge blocked.** Add the \`allow-dangerous-changes\` label (or run the gate with \`--allow-dangerous\`) once reviewed.`;
}

export function renderMarkdown(result: GateResult): string {
  const { preview, assessments } = result;
  const lines = [commentMarker(result.stack), `### Preview of \`${result.stack}\``, "", verdict(result), ""];

  const counts = Object.entries(preview.changeSummary).filter(([op, n]) => op !== "same" && n > 0);
  const same = preview.changeSummary.same ?? 0;
  lines.push(
    counts.length > 0
      ? `**Changes:** ${counts.map(([op, n]) => `${op} ${n}`).join(" · ")}${same ? ` · unchanged ${same}` : ""}`
      : `**No changes.**${same ? ` ${same} unchanged.` : ""}`,
    "",
  );

  const errors = preview.diagnostics.filter((d) => d.severity === "error");
  if (errors.length > 0) {
    lines.push("**Preview errors:**", "", ...errors.map((d) => `- ${cell(d.message.trim())}`), "");
  }

  lines.push(...renderExposures(assessments));

  const flagged = assessments.filter((a) => a.dangers.length > 0 || a.notes.length > 0);
  if (flagged.length > 0) {
    lines.push("**Needs attention:**", "");
    for (const a of flagged) {
      for (const d of a.dangers) lines.push(`- ⛔ \`${a.name}\` (${a.type}): ${d}`);
      for (const n of a.notes) lines.push(`- ⚠️ \`${a.name}\` (${a.type}): ${n}`);
    }
    lines.push("");
  }

  const changed = assessments.filter((a) => a.op !== "same");
  if (changed.length > 0) {
    lines.push("| Op | Resource | Type | Changed properties |", "|---|---|---|---|");
    for (const a of changed) {
      const props = a.changed.length > 0 ? a.changed.map((p) => `\`${cell(p)}\``).join(", ") : "—";
      lines.push(`| ${a.op} | \`${cell(a.name)}\` | \`${a.type}\` | ${props} |`);
    }
    lines.push("");
  }

  lines.push(...renderCost(result.costs));
  return `${lines.join("\n").trimEnd()}\n`;
}

/** Each change that widens exposure, in its own section ahead of the change table and the cost. */
function renderExposures(assessments: readonly Assessment[]): string[] {
  const rows = assessments.flatMap((a) => a.exposures.map((e) => ({ a, e })));
  if (rows.length === 0) return [];
  return [
    "**Exposure changes** (each blocks like a dangerous change):",
    "",
    "| Resource | Type | Property | Old | New | Why it matters |",
    "|---|---|---|---|---|---|",
    ...rows.map(
      ({ a, e }) =>
        `| ⛔ \`${cell(a.name)}\` | \`${cell(a.type)}\` | \`${cell(e.property)}\` | \`${cell(e.old)}\` | \`${cell(e.new)}\` | ${cell(e.why)} (${cell(e.rule)}) |`,
    ),
    "",
  ];
}

function renderCost(costs: readonly CostLine[]): string[] {
  const source = `price table of ${PRICE_TABLE.retrieved} (scripts/preview-gate/prices.ts; sources: ${PRICE_TABLE.sources
    .map((s) => s.split(" ")[0])
    .join(", ")})`;
  if (costs.length === 0)
    return [`**Estimated monthly cost change:** none for what this creates or deletes (${source}).`];
  const priced = costs.filter((c) => c.monthly !== undefined);
  const total = priced.reduce((sum, c) => sum + (c.monthly ?? 0), 0);
  const unpriced = costs.filter((c) => c.monthly === undefined);
  return [
    `**Estimated monthly cost change (estimate, list prices, not a quote):** ${money(total)}`,
    "",
    ...priced.map((c) => `- ${money(c.monthly as number)}: ${cell(c.what)}`),
    ...(unpriced.length > 0
      ? [`- not priced (missing from the table): ${unpriced.map((c) => cell(c.what)).join(", ")}`]
      : []),
    "",
    `<sub>From the ${source}.</sub>`,
  ];
}
