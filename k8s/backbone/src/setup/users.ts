import { type ElasticsearchClient, esRequest, type OpenSearchClient, osRequest } from "@search-backbone/engines";
import {
  ENGINE_WORKLOADS,
  type EngineWorkload,
  engineUserName,
  engineUserPaths,
  esRoleBody,
  esUserBody,
  osRoleBody,
  osRoleMappingBody,
  osUserBody,
} from "@search-backbone/relevance";

/** The workloads' passwords (from the Secrets the Pulumi program generated). */
export type EngineUserPasswords = Readonly<Record<EngineWorkload, string>>;

export interface EngineUsersResult {
  /** The user names made or updated on both engines, by workload. */
  readonly users: Readonly<Record<EngineWorkload, string>>;
}

/**
 * Creates or updates the reader and writer roles and users on both engines, as the admin. Every
 * call is a PUT of the whole object, so a run creates what is missing, brings a changed role back to
 * its rendering, and sets the current password: running it again changes nothing else.
 */
export async function setupEngineUsers(
  engines: { es: ElasticsearchClient; os: OpenSearchClient },
  alias: string,
  passwords: EngineUserPasswords,
): Promise<EngineUsersResult> {
  await setupElasticsearchUsers(engines.es, alias, passwords);
  return setupOpenSearchUsers(engines.os, alias, passwords);
}

/** Elasticsearch's native realm: `PUT /_security/role/<name>`, `PUT /_security/user/<name>`. */
export async function setupElasticsearchUsers(
  es: ElasticsearchClient,
  alias: string,
  passwords: EngineUserPasswords,
): Promise<EngineUsersResult> {
  const users = {} as Record<EngineWorkload, string>;
  for (const workload of ENGINE_WORKLOADS) {
    const paths = engineUserPaths(alias, workload).elasticsearch;
    const name = engineUserName(alias, workload);
    await esRequest(es, `role ${name}`, "PUT", paths.role, esRoleBody(alias, workload));
    await esRequest(es, `user ${name}`, "PUT", paths.user, esUserBody(alias, workload, passwords[workload]));
    users[workload] = name;
  }
  return { users };
}

/** OpenSearch's security plugin REST API: roles, internalusers, rolesmapping. */
export async function setupOpenSearchUsers(
  os: OpenSearchClient,
  alias: string,
  passwords: EngineUserPasswords,
): Promise<EngineUsersResult> {
  const users = {} as Record<EngineWorkload, string>;
  for (const workload of ENGINE_WORKLOADS) {
    const paths = engineUserPaths(alias, workload).opensearch;
    const name = engineUserName(alias, workload);
    await osRequest(os, `role ${name}`, "PUT", paths.role, osRoleBody(alias, workload));
    await osRequest(os, `user ${name}`, "PUT", paths.user, osUserBody(alias, workload, passwords[workload]));
    await osRequest(os, `role mapping ${name}`, "PUT", paths.mapping, osRoleMappingBody(alias, workload));
    users[workload] = name;
  }
  return { users };
}
