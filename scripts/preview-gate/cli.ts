import { parseArgs } from "node:util";
import { runGate } from "./gate.ts";
import { renderMarkdown, totalDangers } from "./markdown.ts";
import { GateInputError } from "./preview.ts";

/** What the CLI touches, so tests (and the fuzzer) run it in-process. */
export interface CliIo {
  /** Reads a file, or standard input for `-`. */
  read(input: string): string;
  write(file: string, text: string): void;
  stdout(text: string): void;
  stderr(text: string): void;
}

function gate(argv: readonly string[], io: CliIo): number {
  let values: { [key: string]: string | boolean | undefined };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        stack: { type: "string" },
        input: { type: "string", default: "-" },
        output: { type: "string" },
        "allow-dangerous": { type: "boolean", default: false },
        labels: { type: "string", default: "" },
        "preview-status": { type: "string", default: "0" },
      },
    }));
  } catch (error) {
    throw new GateInputError((error as Error).message.split("\n")[0]);
  }
  const stack = values.stack as string | undefined;
  if (!stack) throw new GateInputError("--stack: missing; expected the stack name the preview is of");
  const status = values["preview-status"] as string;
  const previewStatus = Number(status);
  if (!/^\d+$/.test(status) || previewStatus > 255) {
    throw new GateInputError(`--preview-status ${JSON.stringify(status)}: expected an exit status (0-255)`);
  }
  const input = values.input as string;
  const source = input === "-" ? "standard input" : input;
  let text: string;
  try {
    text = io.read(input);
  } catch (error) {
    throw new GateInputError(`--input ${source}: cannot read it (${(error as NodeJS.ErrnoException).code})`);
  }
  const result = runGate(text, {
    stack,
    source,
    allowDangerous: values["allow-dangerous"] as boolean,
    labels: (values.labels as string).split(",").map((l) => l.trim()),
    previewStatus,
  });
  const markdown = renderMarkdown(result);
  if (values.output) io.write(values.output as string, markdown);
  else io.stdout(markdown);
  io.stderr(
    `preview-gate: ${stack}: ${totalDangers(result)} dangerous change(s)${result.override ? `, overridden by ${result.override}` : ""}; ${result.blocked ? "blocked" : "passed"}\n`,
  );
  return result.blocked ? 1 : 0;
}

/**
 * The gate's command line: 0 passed, 1 a dangerous change without override, 2 bad input (one line on
 * stderr naming the field). Anything else thrown is a bug in the gate and propagates.
 */
export function runCli(argv: readonly string[], io: CliIo): number {
  try {
    return gate(argv, io);
  } catch (error) {
    if (!(error instanceof GateInputError)) throw error;
    io.stderr(`preview-gate: ${error.message.replace(/\s*\n\s*/g, " ")}\n`);
    return 2;
  }
}
