// Usage: node scripts/preview-gate/main.ts --stack <name> [--input preview.json|-] [--output comment.md]
//          [--allow-dangerous] [--labels label1,label2] [--preview-status <pulumi's exit status>]
// Writes the PR comment's Markdown; exits 1 on a dangerous change without an override, 2 on bad input.
import { readFileSync, writeFileSync } from "node:fs";
import { runCli } from "./cli.ts";

process.exitCode = runCli(process.argv.slice(2), {
  read: (input) => readFileSync(input === "-" ? 0 : input, "utf8"),
  write: (file, text) => writeFileSync(file, text),
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
});
