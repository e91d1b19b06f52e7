import {
  DEFAULT_ACCESS_VALUES,
  type DefaultAccess,
  defaultPermission,
  isSidecar,
  type Permission,
  parseSidecar,
  permissionTokens,
  sidecarKey,
} from "@search-backbone/relevance";
import type { DocumentSource, SourceObject } from "./source";

/**
 * Where a document's permission comes from: a sidecar object beside it, `<key>.acl.json`
 * (`{"public": true}` or `{"groups": [...], "users": [...]}`, see the relevance package's access.ts).
 * Sidecars are not documents. A document without one gets the stack's default (`public` or `deny`).
 * The change key of a document is its ETag plus its sidecar's ETag (or the default it fell back to),
 * so editing, adding or removing a sidecar, or changing the default, re-indexes that document's
 * chunks on the next run even when its text did not change.
 */

export interface Documents {
  /** The documents, each with the ETag of its sidecar (undefined: none). */
  readonly documents: readonly (SourceObject & { readonly sidecarEtag?: string | undefined })[];
  /** Sidecars with no document beside them (reported, otherwise ignored). */
  readonly orphans: readonly string[];
}

export function splitSidecars(objects: readonly SourceObject[]): Documents {
  const sidecars = new Map(objects.filter((o) => isSidecar(o.key)).map((o) => [o.key, o.etag]));
  const documents = objects
    .filter((o) => !isSidecar(o.key))
    .map((o) => ({ ...o, sidecarEtag: sidecars.get(sidecarKey(o.key)) }));
  const keys = new Set(documents.map((d) => d.key));
  const orphans = [...sidecars.keys()].filter((k) => !keys.has(k.slice(0, -".acl.json".length)));
  return { documents, orphans };
}

/** What the ingestion state records for a document: it is redone whenever this changes. */
export function changeKey(etag: string, sidecarEtag: string | undefined, fallback: DefaultAccess): string {
  return `${etag};acl=${sidecarEtag ?? `default-${fallback}`}`;
}

/**
 * Whether the permission part of two change keys differs. A document that cannot be re-indexed (its
 * text no longer parses) while its permission changed is withdrawn, not left under the old one.
 */
export function permissionChanged(previous: string | undefined, next: string): boolean {
  if (previous === undefined) return false;
  const acl = (key: string) => key.slice(key.lastIndexOf(";acl=") + 1);
  return !previous.includes(";acl=") || acl(previous) !== acl(next);
}

/** A sidecar that cannot be used: the document is skipped and what was indexed of it removed. */
export class PermissionError extends Error {
  override readonly name = "PermissionError";
}

/** The access tokens of a document's chunks, read from its sidecar or the default. */
export async function documentAccess(
  source: DocumentSource,
  document: { key: string; sidecarEtag?: string | undefined },
  fallback: DefaultAccess,
): Promise<string[]> {
  let permission: Permission = defaultPermission(fallback);
  if (document.sidecarEtag !== undefined) {
    const parsed = parseSidecar((await source.get(sidecarKey(document.key))).toString("utf8"));
    if (!parsed.ok) throw new PermissionError(`${sidecarKey(document.key)}: ${parsed.error}`);
    permission = parsed.permission;
  }
  return permissionTokens(permission);
}

/** DEFAULT_ACCESS of the ingestion job: `public` or `deny`; unset is `deny` (secure by default). */
export function defaultAccessOf(value: string | undefined): DefaultAccess {
  if (value === undefined || value === "") return "deny";
  if ((DEFAULT_ACCESS_VALUES as readonly string[]).includes(value)) return value as DefaultAccess;
  throw new Error(
    `DEFAULT_ACCESS: given ${JSON.stringify(value)}; expected one of ${DEFAULT_ACCESS_VALUES.join(", ")}`,
  );
}
