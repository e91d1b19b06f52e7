import {
  accessFilter,
  admits,
  defaultPermission,
  esBm25Request,
  esKnnRequest,
  FIELDS,
  NAME_PATTERN,
  osHybridQuery,
  type Permission,
  type Principal,
  parseSidecar,
  permissionTokens,
  principalTokens,
} from "@search-backbone/relevance";
import fc from "fast-check";
import { changeKey, defaultAccessOf, permissionChanged, splitSidecars } from "search-backbone-jobs/ingest/permissions";
import { describe, expect, it } from "vitest";
import { PROFILE } from "./profile-fixtures";

/** Names from a small pool (so documents and callers share some), including ones that look like tokens. */
const name = fc.constantFrom("finance", "hr", "eng", "public", "user:alice", "alice", "bob", "张三", "a.b@example.com");
const principal: fc.Arbitrary<Principal> = fc.record({ id: name, groups: fc.uniqueArray(name, { maxLength: 4 }) });
const permission: fc.Arbitrary<Permission> = fc.record({
  public: fc.boolean(),
  groups: fc.uniqueArray(name, { maxLength: 3 }),
  users: fc.uniqueArray(name, { maxLength: 3 }),
});

/** What the engines evaluate: a `terms` filter on a keyword field matches iff the values intersect. */
function engineAdmits(filter: Record<string, unknown>, documentTokens: readonly string[]): boolean {
  const terms = (filter as { terms: Record<string, string[]> }).terms;
  expect(Object.keys(terms)).toEqual([FIELDS.access]);
  return (terms[FIELDS.access] as string[]).some((t) => documentTokens.includes(t));
}

describe("the access filter", () => {
  it("admits a document iff it is public, or shares a group with the caller, or names the caller as a user", () => {
    fc.assert(
      fc.property(principal, permission, (who, perm) => {
        const expected = perm.public || perm.groups.some((g) => who.groups.includes(g)) || perm.users.includes(who.id);
        const tokens = permissionTokens(perm);
        expect(engineAdmits(accessFilter(who), tokens)).toBe(expected);
        expect(admits(tokens, who)).toBe(expected);
      }),
      { numRuns: 500 },
    );
  });

  it("keeps groups, users and public apart: a group named like a user or 'public' matches only that group", () => {
    expect(principalTokens({ id: "alice", groups: ["public", "hr"] })).toEqual([
      "group:hr",
      "group:public",
      "public",
      "user:alice",
    ]);
    const doc = permissionTokens({ public: false, groups: ["public", "alice"], users: [] });
    expect(admits(doc, { id: "alice", groups: [] })).toBe(false);
    expect(admits(doc, { id: "x", groups: ["alice"] })).toBe(true);
    expect(
      admits(permissionTokens({ public: false, groups: [], users: ["finance"] }), { id: "y", groups: ["finance"] }),
    ).toBe(false);
  });

  it("admits nothing under the deny default, everything under the public default", () => {
    fc.assert(
      fc.property(principal, (who) => {
        expect(admits(permissionTokens(defaultPermission("deny")), who)).toBe(false);
        expect(admits(permissionTokens(defaultPermission("public")), who)).toBe(true);
      }),
    );
  });

  it("is carried by BM25 and inside kNN in both engines' queries", () => {
    const filter = [accessFilter({ id: "alice", groups: ["finance"] })];
    const bm25 = esBm25Request(PROFILE, "q", filter) as any;
    expect(bm25.query.bool.filter).toEqual(filter);
    const knn = esKnnRequest(PROFILE, [0.1, 0.2], filter) as any;
    expect(knn.knn.filter).toEqual({ bool: { filter } });
    expect(knn.query).toBeUndefined(); // not a post-filter
    const hybrid = osHybridQuery(PROFILE, "q", [0.1, 0.2], "rerank", filter) as any;
    const [match, vector] = hybrid.query.hybrid.queries;
    expect(match.bool.filter).toEqual(filter);
    expect(vector.knn[FIELDS.vector].filter).toEqual({ bool: { filter } });
    expect(hybrid.post_filter).toBeUndefined();
    // Without filters the rendered queries are what they were.
    expect((esBm25Request(PROFILE, "q") as any).query).toEqual({ match: { [FIELDS.text]: { query: "q" } } });
    expect((esKnnRequest(PROFILE, [0.1]) as any).knn.filter).toBeUndefined();
  });
});

describe("sidecar files", () => {
  it("reads public, groups and users", () => {
    expect(parseSidecar('{"public": true}')).toEqual({ ok: true, permission: { public: true, groups: [], users: [] } });
    expect(parseSidecar('{"groups": ["finance", "财务"], "users": ["alice@example.com"]}')).toEqual({
      ok: true,
      permission: { public: false, groups: ["finance", "财务"], users: ["alice@example.com"] },
    });
  });

  it.each([
    ["not JSON", "{groups: [finance]}", "not JSON"],
    ["an array", '["finance"]', "expected an object"],
    ["a typo'd key", '{"group": ["finance"]}', "group: unknown field"],
    ["public false", '{"public": false, "groups": ["a"]}', "public: given false"],
    ["public with names", '{"public": true, "users": ["a"]}', "ambiguous"],
    ["nobody", '{"groups": []}', "names nobody"],
    ["a wildcard group", '{"groups": ["fin*"]}', 'groups[0]: given "fin*"'],
    ["a group with a space", '{"groups": ["finance team"]}', 'groups[0]: given "finance team"'],
    ["a comma list", '{"groups": "a,b"}', 'groups: given "a,b"'],
    ["a non-string user", '{"users": [42]}', "users[0]: given 42"],
  ])("refuses %s, naming the field", (_what, text, message) => {
    const result = parseSidecar(text);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error).toContain(message);
  });

  it("never yields a public permission from anything but an explicit public: true", () => {
    fc.assert(
      fc.property(fc.json(), (text) => {
        const result = parseSidecar(text);
        if (result.ok && result.permission.public) expect(JSON.parse(text)).toEqual({ public: true });
        if (result.ok) {
          for (const n of [...result.permission.groups, ...result.permission.users]) expect(n).toMatch(NAME_PATTERN);
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe("permissions in ingestion", () => {
  it("takes sidecars out of the documents and pairs each with its document", () => {
    const listing = splitSidecars([
      { key: "raw/a.md", etag: "A" },
      { key: "raw/a.md.acl.json", etag: "SA" },
      { key: "raw/b.md", etag: "B" },
      { key: "raw/gone.md.acl.json", etag: "SG" },
    ]);
    expect(listing.documents).toEqual([
      { key: "raw/a.md", etag: "A", sidecarEtag: "SA" },
      { key: "raw/b.md", etag: "B", sidecarEtag: undefined },
    ]);
    expect(listing.orphans).toEqual(["raw/gone.md.acl.json"]);
  });

  it("changes a document's change key when its sidecar or the default changes, not otherwise", () => {
    const base = changeKey("E", "S1", "deny");
    expect(changeKey("E", "S1", "deny")).toBe(base);
    expect(changeKey("E", "S1", "public")).toBe(base); // a sidecar wins over the default
    expect(changeKey("E", "S2", "deny")).not.toBe(base);
    expect(changeKey("E", undefined, "deny")).not.toBe(base);
    expect(changeKey("E", undefined, "deny")).not.toBe(changeKey("E", undefined, "public"));
    expect(changeKey("F", "S1", "deny")).not.toBe(base);
  });

  it("tells a permission change from a text change (a document that no longer parses is then withdrawn)", () => {
    expect(permissionChanged(undefined, changeKey("E", "S1", "deny"))).toBe(false);
    expect(permissionChanged(changeKey("E", "S1", "deny"), changeKey("F", "S1", "deny"))).toBe(false);
    expect(permissionChanged(changeKey("E", "S1", "deny"), changeKey("E", "S2", "deny"))).toBe(true);
    expect(permissionChanged(changeKey("E", undefined, "public"), changeKey("F", undefined, "deny"))).toBe(true);
    // State written before permissions existed: treat as changed.
    expect(permissionChanged("E", changeKey("E", undefined, "deny"))).toBe(true);
  });

  it("reads DEFAULT_ACCESS: unset is deny, anything but public|deny is refused by name", () => {
    expect(defaultAccessOf(undefined)).toBe("deny");
    expect(defaultAccessOf("public")).toBe("public");
    expect(() => defaultAccessOf("open")).toThrow('DEFAULT_ACCESS: given "open"; expected one of public, deny');
  });
});
