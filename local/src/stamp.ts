import { createHash } from "node:crypto";

/**
 * When `npm start` runs scripts/setup.sh: the set-up is stale when the inputs it installs from (the
 * npm lock and the Python freeze) changed since it last succeeded, or what it installs is gone.
 */

export function setupStamp(packageLock: string | Buffer, requirements: string | Buffer): string {
  const h = (b: string | Buffer) => createHash("sha256").update(b).digest("hex");
  return `package-lock.json ${h(packageLock)}\nmodels/requirements.txt ${h(requirements)}\n`;
}

export interface SetupState {
  /** The stamp written after the last successful set-up, if any. */
  readonly recorded: string | undefined;
  readonly wanted: string;
  readonly nodeModules: boolean;
  readonly venv: boolean;
}

/** Why the set-up must run, or undefined when it is current. */
export function setupReason(s: SetupState): string | undefined {
  if (!s.nodeModules) return "node_modules is missing";
  if (!s.venv) return ".venv is missing";
  if (s.recorded === undefined) return "no set-up has been recorded for this checkout";
  if (s.recorded !== s.wanted) {
    const changed = s.wanted
      .split("\n")
      .filter((line) => line && !s.recorded?.split("\n").includes(line))
      .map((line) => line.split(" ")[0]);
    return `${changed.join(" and ")} changed since the last set-up`;
  }
  return undefined;
}

/** A build is needed when there is none or a source file is newer than it. */
export function buildNeeded(newestSourceMs: number, builtMs: number | undefined): boolean {
  return builtMs === undefined || newestSourceMs > builtMs;
}
