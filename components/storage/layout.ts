/**
 * The object key layout, named in this one place. Writers and readers (ingestion, the
 * orchestrator's chat logs, training jobs, model serving) take their prefixes from here.
 */
export const STORAGE_PREFIXES = {
  /** Raw documents as ingested, before chunking (docs bucket). */
  raw: "raw/",
  /** Search and chat logs (docs bucket); expire after storage.logExpirationDays. */
  logs: "logs/",
  /** Training and evaluation sets derived from logs (docs bucket). */
  training: "training/",
  /** Model archives, one folder per name and version (artifacts bucket); see modelPrefix. */
  models: "models/",
} as const;

export type StoragePrefixes = typeof STORAGE_PREFIXES;

/** A name or version: starts with a letter or digit, then letters, digits, ".", "_" or "-". */
const PATH_PART = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** `models/<name>/<version>/`, refusing parts that are empty or could escape their folder. */
export function modelPrefix(name: string, version: string): string {
  for (const [label, part] of [
    ["name", name],
    ["version", version],
  ] as const) {
    if (!PATH_PART.test(part) || part.includes("..")) {
      throw new Error(
        `model ${label} ${JSON.stringify(part)}: expected 1-128 letters, digits, ".", "_" or "-", starting with a letter or digit, without ".."`,
      );
    }
  }
  return `${STORAGE_PREFIXES.models}${name}/${version}/`;
}
