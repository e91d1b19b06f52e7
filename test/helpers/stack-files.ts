import { readFileSync } from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";

export const repoRoot = path.resolve(__dirname, "../..");

/**
 * The config map the engine hands a program for a stack file: project defaults from Pulumi.yaml,
 * overlaid with the stack's values; objects become JSON text, as the engine serializes them.
 */
export function engineConfigFor(stackFileText: string): Record<string, string> {
  const project = parse(readFileSync(path.join(repoRoot, "Pulumi.yaml"), "utf8"));
  const stack = parse(stackFileText);
  const merged: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries<any>(project.config ?? {})) {
    if (schema && typeof schema === "object" && "default" in schema) merged[key] = schema.default;
  }
  Object.assign(merged, stack.config ?? {});
  return Object.fromEntries(
    Object.entries(merged).map(([key, value]) => [key, typeof value === "string" ? value : JSON.stringify(value)]),
  );
}

export const readRepoFile = (file: string): string => readFileSync(path.join(repoRoot, file), "utf8");

/** The stack file of the ephemeral profile, with its expiry placeholder filled in. */
export function ephemeralStackText(expiresAt = "2026-11-23T06:00:00Z"): string {
  return readFileSync(path.join(repoRoot, "stacks/profiles/ephemeral.yaml"), "utf8").replace("EXPIRES_AT", expiresAt);
}
