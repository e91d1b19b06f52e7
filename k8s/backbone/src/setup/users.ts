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
  const users = {} as Record<EngineWorkload, string>;
  for (const workload of ENGINE_WORKLOADS) {
    const paths = engineUserPaths(alias, workload);
    const name = engineUserName(alias, workload);
    const password = passwords[workload];
    await esRequest(engines.es, `role ${name}`, "PUT", paths.elasticsearch.role, esRoleBody(alias, workload));
    await esRequest(engines.es, `user ${name}`, "PUT", paths.elasticsearch.user, esUserBody(alias, workload, password));
    await osRequest(engines.os, `role ${name}`, "PUT", paths.opensearch.role, osRoleBody(alias, workload));
    await osRequest(engines.os, `user ${name}`, "PUT", paths.opensearch.user, osUserBody(alias, workload, password));
    await osRequest(
      engines.os,
      `role mapping ${name}`,
      "PUT",
      paths.opensearch.mapping,
      osRoleMappingBody(alias, workload),
    );
    users[workload] = name;
  }
  return { users };
}
