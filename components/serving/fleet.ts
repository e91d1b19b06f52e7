import { createHash } from "node:crypto";

/**
 * Naming of the GPU host fleet, which is what orders a replacement. Hosts carry a fleet id: a hash
 * of everything that requires a new host (model artifacts, instance type, disk, spot, image, user
 * data). A change gives every host a new Pulumi name, so Pulumi creates the new hosts and their
 * NLB attachments first and deletes the old hosts and attachments only at the end of the update
 * (removed resources are deleted after all creates and updates). Old and new hosts serve side by
 * side behind the NLB until then; the NLB sends traffic only to hosts whose /ping is healthy.
 */

export function fleetId(parts: Record<string, unknown>): string {
  return createHash("sha256").update(JSON.stringify(parts)).digest("hex").slice(0, 8);
}

export interface HostSlot {
  readonly key: string;
  readonly index: number;
  /** Index of the vSwitch (zone) the host goes to: round robin, so hosts spread over zones. */
  readonly vswitch: number;
}

export function hostSlots(count: number, vswitchCount: number, fleet: string): HostSlot[] {
  if (vswitchCount < 1) throw new Error("serving: expected at least one vSwitch");
  return Array.from({ length: count }, (_, index) => ({
    key: `${fleet}-${index}`,
    index,
    vswitch: index % vswitchCount,
  }));
}
