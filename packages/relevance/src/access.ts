import { FIELDS } from "./types";

/**
 * Document-level access control, shared by ingestion (what a chunk carries) and the orchestrator
 * (what a caller may see). Every chunk carries one keyword field, FIELDS.access, holding tokens:
 * `public`, `group:<name>` and `user:<id>`. A caller is a principal (an id and groups); its tokens are
 * `public`, `user:<id>` and one `group:<g>` per group, and the engines admit a chunk iff the two sets
 * share a token. A chunk with no token is visible to nobody (the `deny` default). The prefixes keep a
 * group named like a user (or named "public") from ever matching anything but that group.
 */

export const PUBLIC_TOKEN = "public";

/** What a document's source says about who may read it. */
export interface Permission {
  readonly public: boolean;
  readonly groups: readonly string[];
  readonly users: readonly string[];
}

/** Who is asking: an API key's or a JWT's subject, with its groups. */
export interface Principal {
  readonly id: string;
  readonly groups: readonly string[];
}

/** What a document without a sidecar gets: readable by every caller, or by nobody. */
export type DefaultAccess = "public" | "deny";
export const DEFAULT_ACCESS_VALUES: readonly DefaultAccess[] = ["public", "deny"];

/**
 * Group and user names: letters (any script), digits, and `. _ @ + : = / -` after the first
 * character; up to 256. So e-mail addresses, UUIDs (Entra ID object ids) and `team/sub` paths pass;
 * whitespace, commas, quotes and wildcards (`*`, `?`, which would suggest matching that does not
 * happen) are refused as an unknown syntax.
 */
export const NAME_PATTERN = /^[\p{L}\p{N}][\p{L}\p{N}._@+:=/-]{0,255}$/u;

export const groupToken = (group: string) => `group:${group}`;
export const userToken = (user: string) => `user:${user}`;

export function permissionTokens(permission: Permission): string[] {
  const tokens = new Set<string>();
  if (permission.public) tokens.add(PUBLIC_TOKEN);
  for (const g of permission.groups) tokens.add(groupToken(g));
  for (const u of permission.users) tokens.add(userToken(u));
  return [...tokens].sort();
}

export function defaultPermission(access: DefaultAccess): Permission {
  return { public: access === "public", groups: [], users: [] };
}

export function principalTokens(principal: Principal): string[] {
  return [...new Set([PUBLIC_TOKEN, userToken(principal.id), ...principal.groups.map(groupToken)])].sort();
}

/** The engine filter clause (identical on both engines): the chunk shares a token with the caller. */
export function accessFilter(principal: Principal): Record<string, unknown> {
  return { terms: { [FIELDS.access]: principalTokens(principal) } };
}

/** The same test in code, for a chunk already fetched (a second check, never the only one). */
export function admits(documentTokens: readonly string[], principal: Principal): boolean {
  const mine = new Set(principalTokens(principal));
  return documentTokens.some((t) => mine.has(t));
}

export type SidecarResult =
  | { readonly ok: true; readonly permission: Permission }
  | { readonly ok: false; readonly error: string };

/** The sidecar beside a document: `<key>.acl.json`. */
export const SIDECAR_SUFFIX = ".acl.json";
export const isSidecar = (key: string) => key.endsWith(SIDECAR_SUFFIX);
export const sidecarKey = (documentKey: string) => `${documentKey}${SIDECAR_SUFFIX}`;

const SIDECAR_KEYS = new Set(["public", "groups", "users"]);

function names(value: unknown, field: "groups" | "users", errors: string[]): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    errors.push(`${field}: given ${JSON.stringify(value)}; expected an array of names`);
    return [];
  }
  const out: string[] = [];
  value.forEach((name, i) => {
    if (typeof name === "string" && NAME_PATTERN.test(name)) out.push(name);
    else
      errors.push(
        `${field}[${i}]: given ${JSON.stringify(name)}; expected a name of letters, digits and . _ @ + : = / - (no spaces or wildcards)`,
      );
  });
  return out;
}

/**
 * Parses a sidecar: `{"public": true}` or `{"groups": [...], "users": [...]}` (either list may be
 * left out, not both). Anything else is an error naming the field, so the document is skipped rather
 * than indexed with a guess: unknown keys (a typo such as "group" must not widen access), `public`
 * other than `true`, public together with names (ambiguous), or nobody named at all.
 */
export function parseSidecar(text: string): SidecarResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, error: `not JSON: ${(error as Error).message}` };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return {
      ok: false,
      error: `given ${JSON.stringify(value)}; expected an object {"public": true} or {"groups", "users"}`,
    };
  }
  const record = value as Record<string, unknown>;
  const errors: string[] = [];
  for (const key of Object.keys(record)) {
    if (!SIDECAR_KEYS.has(key)) errors.push(`${key}: unknown field; expected only public, groups, users`);
  }
  if (record.public !== undefined && record.public !== true) {
    errors.push(`public: given ${JSON.stringify(record.public)}; expected true or no field`);
  }
  const groups = names(record.groups, "groups", errors);
  const users = names(record.users, "users", errors);
  if (errors.length > 0) return { ok: false, error: errors.join("; ") };
  const isPublic = record.public === true;
  if (isPublic && (groups.length > 0 || users.length > 0)) {
    return { ok: false, error: "public: true together with groups or users is ambiguous; give one or the other" };
  }
  if (!isPublic && groups.length === 0 && users.length === 0) {
    return { ok: false, error: 'names nobody; expected {"public": true} or at least one group or user' };
  }
  return { ok: true, permission: { public: isPublic, groups, users } };
}
