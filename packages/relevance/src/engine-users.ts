import { engagementIndex } from "./engagement";
import { GENERATION_PATTERN } from "./names";

/**
 * Least-privilege engine users, one per workload, the same on both engines. The setup Job (admin)
 * creates and updates them on every run; nothing else ever holds the admin credential.
 * - reader (the orchestrator): search, multi-search, multi-get and `_mapping` on the alias and its
 *   versioned indices, and the alias lookup its readiness probe makes. Exactly the calls of
 *   k8s/orchestrator/src (indices.ts, retrieval.ts, recommendations.ts, routes/readyz.ts).
 * - writer (ingestion): the reader's rights plus write, and the index lifecycle ingestion runs on the
 *   alias's own indices (k8s/backbone/src/ingest, setup/aliases.ts): create its state index, refresh,
 *   swap the alias to a new generation, delete the generation it replaced.
 * Index names are matched by regular expression, so neither user reaches any other index, not even
 * one whose name merely starts with the alias: `<alias>-<8 hex>` is a versioned index,
 * `<alias>-state-<8 hex>` its ingestion state (packages/relevance/src/names.ts).
 */

export type EngineWorkload = "reader" | "writer";
export const ENGINE_WORKLOADS: readonly EngineWorkload[] = ["reader", "writer"];

/** Marks the objects this package owns, so an operator can tell them from hand-made ones. */
export const ENGINE_USER_OWNER = "search-backbone";

/** What config's `search.indexAlias` accepts; the regexes below rely on it (no regex metacharacter). */
const ALIAS = /^[a-z][a-z0-9-]{0,40}$/;

export class EngineUserError extends Error {}

function checkedAlias(alias: string): string {
  if (!ALIAS.test(alias)) {
    throw new EngineUserError(
      `index alias ${JSON.stringify(alias)} cannot name engine roles: expected lowercase letters, digits or hyphens, starting with a letter`,
    );
  }
  return alias;
}

/** Role and user names of a workload: `<alias>-<workload>` on both engines. */
export function engineUserName(alias: string, workload: EngineWorkload): string {
  return `${checkedAlias(alias)}-${workload}`;
}

/**
 * Index name patterns a workload may touch: the alias itself and, as regular expressions (`/…/`,
 * Lucene syntax on Elasticsearch, Java syntax on OpenSearch; both match the whole name), its
 * versioned indices, plus for the writer its state indices.
 */
export function workloadIndexPatterns(alias: string, workload: EngineWorkload): string[] {
  const base = checkedAlias(alias);
  const patterns = [base, `/${base}-${GENERATION_PATTERN}/`];
  return workload === "writer" ? [...patterns, `/${base}-state-${GENERATION_PATTERN}/`] : patterns;
}

// --- Elasticsearch: native realm, `PUT /_security/role/<name>` and `PUT /_security/user/<name>` ---

/**
 * Index privileges per workload. `read` covers search, msearch, get and mget; `view_index_metadata`
 * covers `GET <alias>/_mapping`, alias lookups and `_resolve/index`. The writer's `manage` is what
 * `POST /_aliases` and index deletion require; it is granted on the alias's own indices only.
 */
export const ES_INDEX_PRIVILEGES: Record<EngineWorkload, readonly string[]> = {
  reader: ["read", "view_index_metadata"],
  writer: ["read", "view_index_metadata", "write", "create_index", "manage"],
};

export interface EsRoleBody {
  readonly cluster: string[];
  readonly indices: { names: string[]; privileges: string[]; allow_restricted_indices: boolean }[];
  readonly metadata: Record<string, string>;
}

export function esRoleBody(alias: string, workload: EngineWorkload): EsRoleBody {
  const chunks = {
    names: workloadIndexPatterns(alias, workload),
    privileges: [...ES_INDEX_PRIVILEGES[workload]],
    allow_restricted_indices: false,
  };
  // The orchestrator records engagement in its own index beside the chunks (engagement.ts): it checks
  // that index exists, writes batches to it and prunes old events; setup creates it as admin.
  const engagement = {
    names: [engagementIndex(checkedAlias(alias))],
    privileges: ["read", "write", "view_index_metadata"],
    allow_restricted_indices: false,
  };
  return {
    // No cluster privilege: every call either workload makes is authorised per index.
    cluster: [],
    indices: workload === "reader" ? [chunks, engagement] : [chunks],
    metadata: { owner: ENGINE_USER_OWNER, workload },
  };
}

export interface EsUserBody {
  readonly password: string;
  readonly roles: string[];
  readonly full_name: string;
  readonly enabled: true;
  readonly metadata: Record<string, string>;
}

/** A PUT with the password sets it on an existing user too, so a rotated password takes effect. */
export function esUserBody(alias: string, workload: EngineWorkload, password: string): EsUserBody {
  return {
    password: checkedPassword(password, workload),
    roles: [engineUserName(alias, workload)],
    full_name: `search-backbone ${workload} of ${alias}`,
    enabled: true,
    metadata: { owner: ENGINE_USER_OWNER, workload },
  };
}

// --- OpenSearch security plugin REST API: roles, internalusers, rolesmapping under _plugins/_security/api ---

/**
 * The security plugin authorises multi-search, multi-get, bulk and index-less alias lookups as
 * cluster actions (its `cluster_composite_ops_ro` / `cluster_composite_ops` groups) and then each
 * item per index, so those actions are listed at cluster level; everything else is per index.
 */
export const OS_PERMISSIONS: Record<EngineWorkload, { cluster: readonly string[]; index: readonly string[] }> = {
  reader: {
    cluster: ["indices:data/read/msearch", "indices:data/read/mget", "indices:admin/aliases/get"],
    index: [
      "indices:data/read/search*",
      "indices:data/read/msearch",
      "indices:data/read/mget*",
      "indices:data/read/get",
      "indices:admin/mappings/get",
      "indices:admin/aliases/get",
      "indices:admin/aliases/exists",
    ],
  },
  writer: {
    cluster: [
      "indices:data/read/msearch",
      "indices:data/read/mget",
      "indices:admin/aliases/get",
      "indices:data/write/bulk",
      "indices:admin/resolve/index",
    ],
    index: [
      "indices:data/read/search*",
      "indices:data/read/msearch",
      "indices:data/read/mget*",
      "indices:data/read/get",
      "indices:admin/mappings/get",
      "indices:admin/aliases/get",
      "indices:admin/aliases/exists",
      "indices:admin/resolve/index",
      "indices:data/write/bulk*",
      "indices:data/write/index",
      "indices:data/write/delete",
      "indices:data/write/update",
      "indices:admin/create",
      "indices:admin/mapping/put",
      "indices:admin/refresh*",
      "indices:admin/aliases",
      "indices:admin/delete",
    ],
  },
};

export interface OsRoleBody {
  readonly description: string;
  readonly cluster_permissions: string[];
  readonly index_permissions: { index_patterns: string[]; allowed_actions: string[] }[];
}

export function osRoleBody(alias: string, workload: EngineWorkload): OsRoleBody {
  const own = {
    index_patterns: workloadIndexPatterns(alias, workload),
    allowed_actions: [...OS_PERMISSIONS[workload].index],
  };
  // Ingestion lists `<alias>-*` to find generations to retire (setup/aliases.ts). Elasticsearch drops
  // what a user may not see from a wildcard; the security plugin refuses the whole request instead, so
  // the writer may resolve (see the names of, nothing more) every index starting with the alias.
  const listing = { index_patterns: [`${alias}-*`], allowed_actions: ["indices:admin/resolve/index"] };
  return {
    description: `${ENGINE_USER_OWNER} ${workload} of ${checkedAlias(alias)}`,
    cluster_permissions: [...OS_PERMISSIONS[workload].cluster],
    index_permissions: workload === "writer" ? [own, listing] : [own],
  };
}

export interface OsUserBody {
  readonly password: string;
  readonly description: string;
  readonly attributes: Record<string, string>;
}

/** `PUT internalusers/<name>` replaces the user, password included. Roles come from the mapping. */
export function osUserBody(alias: string, workload: EngineWorkload, password: string): OsUserBody {
  return {
    password: checkedPassword(password, workload),
    description: `${ENGINE_USER_OWNER} ${workload} of ${checkedAlias(alias)}`,
    attributes: { owner: ENGINE_USER_OWNER, workload },
  };
}

/** `PUT rolesmapping/<role>`: the role's only member is the workload's user. */
export function osRoleMappingBody(alias: string, workload: EngineWorkload): { users: string[]; description: string } {
  return { users: [engineUserName(alias, workload)], description: `${ENGINE_USER_OWNER} ${workload} of ${alias}` };
}

/** Both engines' REST paths, with the names URL-safe by construction (the alias pattern). */
export function engineUserPaths(alias: string, workload: EngineWorkload) {
  const name = engineUserName(alias, workload);
  return {
    elasticsearch: { role: `/_security/role/${name}`, user: `/_security/user/${name}` },
    opensearch: {
      role: `/_plugins/_security/api/roles/${name}`,
      user: `/_plugins/_security/api/internalusers/${name}`,
      mapping: `/_plugins/_security/api/rolesmapping/${name}`,
    },
  };
}

/** Both engines' floors are lower (ES: 6; OpenSearch's default validation: 8 and a strong score). */
export const MIN_ENGINE_PASSWORD_LENGTH = 16;

function checkedPassword(password: string, workload: EngineWorkload): string {
  if (password.length < MIN_ENGINE_PASSWORD_LENGTH) {
    throw new EngineUserError(
      `the ${workload} password has ${password.length} characters; expected at least ${MIN_ENGINE_PASSWORD_LENGTH}`,
    );
  }
  return password;
}
