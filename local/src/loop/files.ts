import { existsSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { gunzipSync } from "node:zlib";

/** File helpers of the loop: atomic JSON writes, the event log's folder and its line count. */

/** Writes through a temporary file and a rename, so a reader (the orchestrator's reload) never sees half a file. */
export function writeJsonAtomic(file: string, value: unknown): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(tmp, file);
}

export const readJson = <T>(file: string): T => JSON.parse(readFileSync(file, "utf8")) as T;

/**
 * The folder `prepare --events` reads: the orchestrator writes `logs/events/dt=…/hour=…/*.jsonl.gz`
 * under EVENT_LOG_FOLDER (and recommendation exposures, which have no query, under a sibling prefix
 * that prepare must not read). The stack may name either the root or `logs/events` itself.
 */
export function eventsFolder(eventLog: string): string {
  const nested = path.join(eventLog, "logs", "events");
  return existsSync(nested) ? nested : eventLog;
}

function files(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? files(full) : [full];
  });
}

/** Event lines by type in every *.jsonl(.gz) file under `folder`. */
export function countEvents(folder: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const file of files(folder)) {
    if (!/\.jsonl(\.gz)?$/.test(file)) continue;
    const raw = readFileSync(file);
    const text = file.endsWith(".gz") ? gunzipSync(raw).toString("utf8") : raw.toString("utf8");
    for (const line of text.split("\n")) {
      if (!line.trim()) continue;
      const type = (JSON.parse(line) as { type?: string }).type ?? "unknown";
      counts[type] = (counts[type] ?? 0) + 1;
    }
  }
  return counts;
}

/** Every file under `dir` with its path relative to it (forward slashes), e.g. document ids. */
export function relativeFiles(dir: string): string[] {
  return files(dir).map((f) => path.relative(dir, f).split(path.sep).join("/"));
}
