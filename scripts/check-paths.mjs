#!/usr/bin/env node
// Lint step: no tracked file may name a path outside the repository (a build machine's home or
// workspace, or a sibling folder). Such paths work on one machine only; cite public URLs instead.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

// Built from parts so this file does not match itself.
const roots = ["work", "farm", "root", "home", "Users", "mnt/c"].join("|");
const OUTSIDE = new RegExp(`(^|[^.\\w])/(${roots})/[\\w.]|(^|[^.\\w])[A-Z]:\\\\Users\\\\|\\.\\./(\\.\\./)*shared/`);
// Lock files only record registry paths; binary files are not text.
const SKIP = /(^|\/)(package-lock\.json|go\.sum)$|\.(png|jpe?g|gif|ico|mar|pt|bin)$/;

const files = execFileSync("git", ["ls-files", "-z"], { encoding: "utf8" }).split("\0").filter(Boolean);
const hits = [];
for (const file of files.filter((f) => !SKIP.test(f))) {
  let text;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    continue; // deleted in the work tree but still in the index
  }
  text.split("\n").forEach((line, i) => {
    if (OUTSIDE.test(line)) hits.push(`${file}:${i + 1}: ${line.trim().slice(0, 120)}`);
  });
}
if (hits.length > 0) {
  console.error(`check-paths: ${hits.length} line(s) name a path outside the repository; cite a public URL instead:`);
  for (const hit of hits) console.error(`  ${hit}`);
  process.exit(1);
}
console.log(`check-paths: ${files.length} tracked files name no path outside the repository`);
