import {
  EngineUserError,
  engineUserName,
  engineUserPaths,
  esRoleBody,
  esUserBody,
  indexNames,
  isVersionedIndex,
  osRoleBody,
  osRoleMappingBody,
  osUserBody,
  workloadIndexPatterns,
} from "@search-backbone/relevance";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PROFILE } from "./profile-fixtures";

const PASSWORD = "A-long-enough-passw0rd";

/** What an engine does with a role's index pattern: a `/…/` regex matches the whole name, else exact. */
const matches = (pattern: string, name: string) =>
  pattern.startsWith("/") && pattern.endsWith("/")
    ? new RegExp(`^(?:${pattern.slice(1, -1)})$`).test(name)
    : pattern === name;
const reaches = (patterns: string[], name: string) => patterns.some((p) => matches(p, name));

describe("engine user renderings", () => {
  it("names one role and user per workload after the alias", () => {
    expect(engineUserName("chunks", "reader")).toBe("chunks-reader");
    expect(engineUserPaths("chunks", "writer")).toEqual({
      elasticsearch: { role: "/_security/role/chunks-writer", user: "/_security/user/chunks-writer" },
      opensearch: {
        role: "/_plugins/_security/api/roles/chunks-writer",
        user: "/_plugins/_security/api/internalusers/chunks-writer",
        mapping: "/_plugins/_security/api/rolesmapping/chunks-writer",
      },
    });
  });

  it("renders Elasticsearch roles in the shape of PUT /_security/role: no cluster privilege, the alias's indices only", () => {
    expect(esRoleBody("chunks", "reader")).toEqual({
      cluster: [],
      indices: [
        {
          names: ["chunks", "/chunks-[0-9a-f]{8}/"],
          privileges: ["read", "view_index_metadata"],
          allow_restricted_indices: false,
        },
        {
          names: ["chunks-engagement"],
          privileges: ["read", "write", "view_index_metadata"],
          allow_restricted_indices: false,
        },
      ],
      metadata: { owner: "search-backbone", workload: "reader" },
    });
    const writer = esRoleBody("chunks", "writer");
    expect(writer.indices[0]!.names).toEqual(["chunks", "/chunks-[0-9a-f]{8}/", "/chunks-state-[0-9a-f]{8}/"]);
    expect(writer.indices[0]!.privileges).toEqual(["read", "view_index_metadata", "write", "create_index", "manage"]);
    expect(writer.indices).toHaveLength(1);
    expect(esUserBody("chunks", "reader", PASSWORD)).toEqual({
      password: PASSWORD,
      roles: ["chunks-reader"],
      full_name: "search-backbone reader of chunks",
      enabled: true,
      metadata: { owner: "search-backbone", workload: "reader" },
    });
  });

  it("renders OpenSearch roles, users and mappings in the security plugin's REST shapes", () => {
    const reader = osRoleBody("chunks", "reader");
    expect(Object.keys(reader).sort()).toEqual(["cluster_permissions", "description", "index_permissions"]);
    expect(reader.index_permissions).toEqual([
      { index_patterns: ["chunks", "/chunks-[0-9a-f]{8}/"], allowed_actions: expect.any(Array) },
    ]);
    // The reader may read, never write, create, delete or re-point anything.
    const readerActions = [...reader.cluster_permissions, ...reader.index_permissions[0]!.allowed_actions];
    expect(
      readerActions.filter((a) => /write|create|delete|refresh|aliases$|\*$/.test(a) && !/search\*$|mget\*$/.test(a)),
    ).toEqual([]);
    expect(readerActions).toEqual(expect.arrayContaining(["indices:admin/mappings/get", "indices:data/read/search*"]));
    const writer = osRoleBody("chunks", "writer");
    expect(writer.index_permissions[0]!.allowed_actions).toEqual(
      expect.arrayContaining(["indices:data/write/index", "indices:admin/aliases", "indices:admin/delete"]),
    );
    // Beyond its own indices, the writer may only list names under the alias's prefix.
    expect(writer.index_permissions.slice(1)).toEqual([
      { index_patterns: ["chunks-*"], allowed_actions: ["indices:admin/resolve/index"] },
    ]);
    expect(osUserBody("chunks", "writer", PASSWORD)).toEqual({
      password: PASSWORD,
      description: "search-backbone writer of chunks",
      attributes: { owner: "search-backbone", workload: "writer" },
    });
    expect(osRoleMappingBody("chunks", "reader")).toEqual({
      users: ["chunks-reader"],
      description: "search-backbone reader of chunks",
    });
  });

  it("covers the indices setup and ingestion name, and no index that merely starts with the alias", () => {
    const names = indexNames("chunks", PROFILE);
    const reader = workloadIndexPatterns("chunks", "reader");
    const writer = workloadIndexPatterns("chunks", "writer");
    for (const name of [names.alias, names.index]) expect(reaches(reader, name), name).toBe(true);
    for (const name of [names.alias, names.index, names.state]) expect(reaches(writer, name), name).toBe(true);
    for (const name of [names.state, "chunks-notes", "chunks-0123456789", "chunksx", "other", ".security"]) {
      expect(reaches(reader, name), name).toBe(false);
    }
    expect(reaches(writer, "chunks-notes")).toBe(false);
  });

  it("for any alias, reaches exactly the alias's versioned indices (and, writing, their state)", () => {
    const alias = fc.stringMatching(/^[a-z][a-z0-9-]{0,40}$/);
    const name = fc.oneof(
      fc.stringMatching(/^[a-z][a-z0-9-]{0,50}$/),
      fc.tuple(alias, fc.stringMatching(/^[0-9a-f]{8}$/)).map(([a, g]) => `${a}-${g}`),
      fc.tuple(alias, fc.stringMatching(/^[0-9a-f]{8}$/)).map(([a, g]) => `${a}-state-${g}`),
    );
    fc.assert(
      fc.property(alias, name, (base, candidate) => {
        const state = new RegExp(`^${base}-state-[0-9a-f]{8}$`).test(candidate);
        expect(reaches(workloadIndexPatterns(base, "reader"), candidate)).toBe(
          candidate === base || isVersionedIndex(base, candidate),
        );
        expect(reaches(workloadIndexPatterns(base, "writer"), candidate)).toBe(
          candidate === base || isVersionedIndex(base, candidate) || state,
        );
      }),
      { numRuns: 500 },
    );
  });

  it("refuses an alias that could widen a pattern, and a short password, naming the value", () => {
    expect(() => esRoleBody("Chunks.*", "reader")).toThrow(EngineUserError);
    expect(() => osRoleBody("a|b", "reader")).toThrow('index alias "a|b" cannot name engine roles');
    expect(() => esUserBody("chunks", "writer", "short")).toThrow(
      "the writer password has 5 characters; expected at least 16",
    );
    expect(() => osUserBody("chunks", "reader", "")).toThrow("the reader password has 0 characters");
  });
});
