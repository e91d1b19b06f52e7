import * as pulumi from "@pulumi/pulumi";

/**
 * The only place that reads Pulumi config. It returns this project's keys without the namespace;
 * object and array values arrive from the engine as JSON text and are parsed here. Values the
 * project file defaults to "" (optional strings) count as unset.
 */
export function readRawConfig(project: string): Record<string, unknown> {
  const prefix = `${project}:`;
  const raw: Record<string, unknown> = {};
  for (const [key, text] of Object.entries(pulumi.runtime.allConfig())) {
    if (!key.startsWith(prefix) || text === "") continue;
    raw[key.slice(prefix.length)] = parseValue(text);
  }
  return raw;
}

function parseValue(text: string): unknown {
  if (!/^\s*[[{]/.test(text)) return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
