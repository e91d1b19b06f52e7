// Usage: node scripts/preview-gate/main.ts --stack <name> [--input preview.json|-] [--output comment.md]
//          [--allow-dangerous] [--labels label1,label2] [--preview-status <pulumi's exit status>]
// Writes the PR comment's Markdown; exits 1 on a dangerous change without an override, 2 on bad input.
import { readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { runGate } from "./gate.ts";
import { renderMarkdown } from "./markdown.ts";
import { GateInputError } from "./preview.ts";

function main(): number {
  const { values } = parseArgs({
    options: {
      stack: { type: "string" },
      input: { type: "string", default: "-" },
      output: { type: "string" },
      "allow-dangerous": { type: "boolean", default: false },
      labels: { type: "string", default: "" },
      "preview-status": { type: "string", default: "0" },
    },
  });
  if (!values.stack) throw new GateInputError("--stack: missing; expected the stack name the preview is of");
  const previewStatus = Number(values["preview-status"]);
  if (!Number.isInteger(previewStatus) || previewStatus < 0) {
    throw new GateInputError(
      `--preview-status ${JSON.stringify(values["preview-status"])}: expected an exit status (0-255)`,
    );
  }
  const source = values.input === "-" ? "standard input" : values.input;
  let text: string;
  try {
    text = readFileSync(values.input === "-" ? 0 : values.input, "utf8");
  } catch (error) {
    throw new GateInputError(`--input ${source}: cannot read it (${(error as NodeJS.ErrnoException).code})`);
  }
  const result = runGate(text, {
    stack: values.stack,
    source,
    allowDangerous: values["allow-dangerous"],
    labels: values.labels.split(",").map((l) => l.trim()),
    previewStatus,
  });
  const markdown = renderMarkdown(result);
  if (values.output) writeFileSync(values.output, markdown);
  else process.stdout.write(markdown);
  const dangers = result.assessments.reduce((n, a) => n + a.dangers.length, 0);
  console.error(
    `preview-gate: ${values.stack}: ${dangers} dangerous change(s)${result.override ? `, overridden by ${result.override}` : ""}; ${result.blocked ? "blocked" : "passed"}`,
  );
  return result.blocked ? 1 : 0;
}

try {
  process.exitCode = main();
} catch (error) {
  if (!(error instanceof GateInputError) && !(error instanceof TypeError && "code" in error)) throw error;
  console.error(`preview-gate: ${(error as Error).message}`);
  process.exitCode = 2;
}
