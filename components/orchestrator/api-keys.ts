import { createHash } from "node:crypto";
import type { ApiKey } from "./settings";

/**
 * API_KEYS_FILE: `[{id, sha256, ratePerMinute?, groups?, onBehalfOf?}]`. The config schema has checked each entry and the
 * config rules that ids are unique and, while the orchestrator is enabled, that there is one.
 */
export function apiKeysFile(keys: readonly ApiKey[]): string {
  return JSON.stringify(
    keys.map((k) => ({
      id: k.id,
      sha256: k.sha256,
      ...(k.ratePerMinute ? { ratePerMinute: k.ratePerMinute } : {}),
      ...(k.groups?.length ? { groups: [...k.groups] } : {}),
      ...(k.onBehalfOf ? { onBehalfOf: true } : {}),
    })),
  );
}

/** Hex SHA-256 of a key, as an operator computes it (`printf %s "$KEY" | sha256sum`). */
export const sha256Hex = (text: string): string => createHash("sha256").update(text, "utf8").digest("hex");
