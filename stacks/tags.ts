import type { BackboneConfig } from "./config";

export interface StackIdentity {
  readonly project: string;
  readonly stack: string;
}

/**
 * Tags every taggable resource carries. The fixed keys come last so a stack's own `tags` cannot
 * overwrite the ones teardown and cost reports rely on.
 */
export function standardTags(
  cfg: Pick<BackboneConfig, "environment" | "owner" | "tags" | "expiresAt">,
  id: StackIdentity,
): Record<string, string> {
  return {
    ...cfg.tags,
    project: id.project,
    stack: id.stack,
    environment: cfg.environment,
    owner: cfg.owner,
    ...(cfg.environment === "ephemeral" && cfg.expiresAt ? { "expires-at": cfg.expiresAt } : {}),
  };
}
