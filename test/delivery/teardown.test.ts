import { spawnSync } from "node:child_process";
import * as path from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decide, parseRfc3339, type StackFacts } from "../../scripts/stacks/lifecycle-tags.ts";
import { exitCodeOf, type TeardownEntry, type TeardownReport } from "../../scripts/stacks/teardown.ts";
import { MALFORMED_EXPIRIES } from "../helpers/expiries";
import { repoRoot } from "../helpers/stack-files";

const NOW = new Date("2026-11-22T12:00:00Z");
const FUTURE_EXPIRY = "2026-11-22T20:00:00Z";
const expired = { ephemeral: "true", environment: "ephemeral", "expires-at": "2026-11-22T11:59:59Z" };

describe("which stacks the teardown destroys", () => {
  it("destroys an expired stack with the marker, whose every source says ephemeral", () => {
    expect(decide({ name: "pr-1", tags: expired }, NOW)).toEqual({
      action: "destroy",
      reason: "expired at 2026-11-22T11:59:59Z",
      expiresAt: "2026-11-22T11:59:59Z",
    });
    const offset = { ...expired, "expires-at": "2026-11-22T19:00:00+08:00" };
    expect(decide({ name: "pr-1", tags: offset }, NOW).action).toBe("destroy");
    const agreeing: StackFacts = {
      name: "pr-1",
      tags: expired,
      stackFiles: [{ file: "Pulumi.pr-1.yaml", hasConfig: true, environment: "ephemeral" }],
      backendEnvironment: "ephemeral",
      stateEnvironments: ["ephemeral"],
      protectedResources: [],
    };
    expect(decide(agreeing, NOW).action).toBe("destroy");
  });

  it.each<[string, Partial<StackFacts>, string]>([
    ["without the marker", { tags: { ...expired, ephemeral: "false" } }, "no ephemeral=true marker"],
    ["tagged prod", { tags: { ...expired, environment: "prod" } }, "environment is prod"],
    ["named prod, whatever its tags", { name: "prod" }, 'stack name "prod" is long-lived (protected)'],
    ["named prod in an organisation", { name: "acme/search-backbone/Prod" }, "is long-lived (protected)"],
    ["named dev", { name: "dev" }, 'stack name "dev" is long-lived (protected)'],
    [
      "whose committed stack file says prod",
      { stackFiles: [{ file: "Pulumi.pr-1.yaml", hasConfig: true, environment: "prod" }] },
      'Pulumi.pr-1.yaml sets environment "prod", not "ephemeral"',
    ],
    [
      "whose stack file sets no environment",
      { stackFiles: [{ file: "Pulumi.pr-1.yaml", hasConfig: true }] },
      "Pulumi.pr-1.yaml sets environment undefined",
    ],
    [
      "whose stack file is not YAML",
      { stackFiles: [{ file: "Pulumi.pr-1.yaml", hasConfig: true, error: "bad indentation" }] },
      "Pulumi.pr-1.yaml cannot be read (bad indentation)",
    ],
    ["whose last update ran as dev", { backendEnvironment: "dev" }, `the last update's config is "dev"`],
    ["whose last update ran as prod", { backendEnvironment: "prod" }, "environment is prod"],
    ["whose resources are tagged prod", { stateEnvironments: ["ephemeral", "prod"] }, "environment is prod"],
    [
      "whose state holds a protected resource",
      { protectedResources: ["urn:pulumi:pr-1::p::alicloud:oss/bucket:Bucket::docs"] },
      "its state holds 1 protected resource(s), e.g. urn:pulumi:pr-1::p::alicloud:oss/bucket:Bucket::docs",
    ],
    [
      "with another environment tag",
      { tags: { ...expired, environment: "dev" } },
      'environment tag is "dev", not "ephemeral"',
    ],
    [
      "without an environment tag",
      { tags: { ephemeral: "true", "expires-at": expired["expires-at"] } },
      "environment tag is undefined",
    ],
    [
      "without an expiry",
      { tags: { ephemeral: "true", environment: "ephemeral" } },
      "no valid expires-at tag (undefined; expected RFC 3339 with a time zone)",
    ],
    [
      "with free text as expiry",
      { tags: { ...expired, "expires-at": "ttl 12" } },
      'no valid expires-at tag ("ttl 12"; expected RFC 3339 with a time zone)',
    ],
    [
      "not yet expired",
      { tags: { ...expired, "expires-at": "2026-11-22T12:00:01Z" } },
      "not expired (expires 2026-11-22T12:00:01Z)",
    ],
  ])("keeps a stack %s", (_, facts, reason) => {
    const decision = decide({ name: "pr-1", tags: expired, ...facts }, NOW);
    expect(decision.action).toBe("keep");
    expect(decision.reason).toContain(reason);
  });

  it("reads a stack file without config (only the passphrase salt) as saying nothing", () => {
    const saltOnly: StackFacts = {
      name: "pr-1",
      tags: expired,
      stackFiles: [{ file: "Pulumi.pr-1.yaml", hasConfig: false }],
    };
    expect(decide(saltOnly, NOW).action).toBe("destroy");
  });

  it("keeps names from a configured protected list, and prod even when the list omits it", () => {
    const options = { protectedStacks: ["staging"] };
    expect(decide({ name: "staging", tags: expired }, NOW, options).action).toBe("keep");
    expect(decide({ name: "prod", tags: expired }, NOW, options).action).toBe("keep");
    expect(decide({ name: "dev", tags: expired }, NOW, options).action).toBe("destroy");
  });
});

describe("a stack asked for by name (teardown --only, a closed PR's stack)", () => {
  const due = { ignoreExpiry: true };

  it.each([FUTURE_EXPIRY, "ttl 12", undefined])("destroys an ephemeral stack whatever its expiry (%j)", (expiresAt) => {
    const { "expires-at": _, ...rest } = expired;
    const tags = expiresAt === undefined ? rest : { ...rest, "expires-at": expiresAt };
    expect(decide({ name: "pr-7", tags }, NOW, due)).toEqual({
      action: "destroy",
      reason: "due now (requested by name; expires-at not consulted)",
    });
  });

  it.each<[string, Partial<StackFacts>, string]>([
    ["named prod", { name: "prod" }, 'stack name "prod" is long-lived (protected)'],
    ["without the marker", { tags: { environment: "ephemeral" } }, "no ephemeral=true marker"],
    [
      "whose committed stack file says dev, though its working copy says ephemeral",
      {
        stackFiles: [
          { file: "Pulumi.pr-7.yaml (committed)", hasConfig: true, environment: "dev" },
          { file: "Pulumi.pr-7.yaml (working copy)", hasConfig: true, environment: "ephemeral" },
        ],
      },
      'Pulumi.pr-7.yaml (committed) sets environment "dev", not "ephemeral"',
    ],
    [
      "whose uncommitted stack file says dev",
      { stackFiles: [{ file: "Pulumi.pr-7.yaml (not committed)", hasConfig: true, environment: "dev" }] },
      'Pulumi.pr-7.yaml (not committed) sets environment "dev"',
    ],
    ["whose state holds a protected resource", { protectedResources: ["urn:x"] }, "protected resource(s)"],
    ["whose last update ran as prod", { backendEnvironment: "prod" }, "environment is prod"],
  ])("keeps one %s", (_, facts, reason) => {
    const decision = decide({ name: "pr-7", tags: expired, ...facts }, NOW, { ...due, protectedStacks: ["dev"] });
    expect(decision.action).toBe("keep");
    expect(decision.reason).toContain(reason);
  });

  it("exits 1 when it was kept or its destroy failed, 0 when destroyed or absent", () => {
    const report = (only: string | undefined, action: TeardownEntry["action"]): TeardownReport => ({
      dryRun: false,
      now: NOW.toISOString(),
      ...(only ? { only } : {}),
      stacks: [{ stack: "pr-7", action, reason: "r" }],
      failed: action === "failed" ? 1 : 0,
    });
    expect(exitCodeOf(report("pr-7", "kept"))).toBe(1);
    expect(exitCodeOf(report("pr-7", "failed"))).toBe(1);
    expect(exitCodeOf(report("pr-7", "destroyed"))).toBe(0);
    expect(exitCodeOf(report("pr-7", "absent"))).toBe(0);
    // The nightly run keeps most stacks by design: that is no failure.
    expect(exitCodeOf(report(undefined, "kept"))).toBe(0);
    expect(exitCodeOf(report(undefined, "failed"))).toBe(1);
  });

  it.each([
    ["--only", "../prod"],
    ["--only", ""],
    ["--protected-stacks", "dev,pro d"],
  ])("the CLI refuses %s %j before reading any stack (exit 2)", (flag, value) => {
    const run = spawnSync(process.execPath, [path.join(repoRoot, "scripts/stacks/teardown.ts"), flag, value], {
      encoding: "utf8",
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(`teardown: ${flag} `);
    expect(run.stderr).toContain("expected a stack name like pr-7");
  });
});

describe("expires-at is read strictly", () => {
  it.each(MALFORMED_EXPIRIES)("keeps a stack whose expires-at is %j, quoting it", (value) => {
    expect(parseRfc3339(value)).toBeUndefined();
    const decision = decide({ name: "pr-1", tags: { ...expired, "expires-at": value } }, NOW);
    expect(decision).toEqual({
      action: "keep",
      reason: `no valid expires-at tag (${JSON.stringify(value)}; expected RFC 3339 with a time zone)`,
    });
  });

  it("reads RFC 3339 with Z, offsets, fractions and lower-case separators", () => {
    expect(parseRfc3339("2026-11-22T08:00:00Z")).toBe(Date.UTC(2026, 10, 22, 8));
    expect(parseRfc3339("2026-11-22t08:00:00z")).toBe(Date.UTC(2026, 10, 22, 8));
    expect(parseRfc3339("2026-11-22T16:00:00+08:00")).toBe(Date.UTC(2026, 10, 22, 8));
    expect(parseRfc3339("2026-11-22T03:30:00-04:30")).toBe(Date.UTC(2026, 10, 22, 8));
    expect(parseRfc3339("2026-11-22T08:00:00.250Z")).toBe(Date.UTC(2026, 10, 22, 8, 0, 0, 250));
    expect(parseRfc3339("2028-02-29T00:00:00Z")).toBe(Date.UTC(2028, 1, 29));
  });

  it("agrees with an independent rendering for every instant and offset (property)", () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date("1970-01-01T00:00:00Z"), max: new Date("9000-12-31T00:00:00Z"), noInvalidDate: true }),
        fc.integer({ min: -23 * 60 - 59, max: 23 * 60 + 59 }),
        (date, offsetMinutes) => {
          const local = new Date(date.getTime() + offsetMinutes * 60_000).toISOString().replace(/Z$/, "");
          const sign = offsetMinutes < 0 ? "-" : "+";
          const abs = Math.abs(offsetMinutes);
          const zone = `${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
          expect(parseRfc3339(`${local}${zone}`)).toBe(date.getTime());
        },
      ),
    );
  });
});

/** Tag values drawn from what a mistaken or copy-pasted tag could say. */
const tagValue = fc.oneof(
  fc.constantFrom(
    "true",
    "false",
    "TRUE",
    "True",
    "1",
    "yes",
    "",
    "ephemeral",
    "prod",
    "dev",
    "Ephemeral",
    " ephemeral",
  ),
  fc.constantFrom(...MALFORMED_EXPIRIES),
  fc
    .date({ min: new Date("2020-01-01T00:00:00Z"), max: new Date("2030-01-01T00:00:00Z"), noInvalidDate: true })
    .map((d) => d.toISOString()),
  fc.string(),
);
const tags = fc.dictionary(
  fc.constantFrom("ephemeral", "environment", "expires-at", "owner", "Ephemeral", "expires_at", "env"),
  tagValue,
);
const environment = fc.option(fc.constantFrom("ephemeral", "prod", "dev", "Ephemeral", "", "staging"), {
  nil: undefined,
});
const facts: fc.Arbitrary<StackFacts> = fc.record(
  {
    name: fc.constantFrom("pr-1", "pr-22", "prod", "dev", "staging", "org/proj/prod", "PROD", "feature-x"),
    tags,
    stackFiles: fc.array(
      fc.record(
        { file: fc.constant("Pulumi.x.yaml"), hasConfig: fc.boolean(), environment, error: fc.constant("bad YAML") },
        { requiredKeys: ["file", "hasConfig"] },
      ),
      { maxLength: 2 },
    ),
    backendEnvironment: fc.constantFrom("ephemeral", "prod", "dev", "Ephemeral"),
    stateEnvironments: fc.array(fc.constantFrom("ephemeral", "prod", "dev"), { maxLength: 3 }),
    protectedResources: fc.array(fc.constant("urn:pulumi:x::p::t::r"), { maxLength: 2 }),
  },
  { requiredKeys: ["name", "tags"] },
);

/** An independent statement of when a destroy is allowed, written without the decision's code. */
function destroyable(s: StackFacts, protectedNames: readonly string[]): boolean {
  const last = s.name.split("/").pop()?.toLowerCase() ?? "";
  if (["prod", ...protectedNames].includes(last)) return false;
  for (const file of s.stackFiles ?? []) {
    if (file.error !== undefined || (file.hasConfig && file.environment !== "ephemeral")) return false;
  }
  if ((s.protectedResources ?? []).length > 0) return false;
  if (s.tags.ephemeral !== "true" || s.tags.environment !== "ephemeral") return false;
  if (s.backendEnvironment !== undefined && s.backendEnvironment !== "ephemeral") return false;
  if ((s.stateEnvironments ?? []).some((e) => e !== "ephemeral")) return false;
  const expiry = s.tags["expires-at"];
  const strict = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;
  return typeof expiry === "string" && strict.test(expiry) && new Date(expiry).getTime() <= NOW.getTime();
}

describe("the teardown decision over every combination of tags and sources (property)", () => {
  it("destroys only an ephemeral stack, agreed by every source, with a valid past expiry", () => {
    fc.assert(
      fc.property(facts, (s) => {
        const decision = decide(s, NOW, { protectedStacks: ["dev"] });
        if (decision.action === "destroy") expect(destroyable(s, ["dev"])).toBe(true);
        else expect(decision.reason.length).toBeGreaterThan(0);
      }),
      { numRuns: 2000 },
    );
  });

  it("asked for by name, destroys only a stack that every keep rule but expiry lets go", () => {
    fc.assert(
      fc.property(facts, (s) => {
        const decision = decide(s, NOW, { protectedStacks: ["dev"], ignoreExpiry: true });
        const dueNow = { ...s, tags: { ...s.tags, "expires-at": "2000-01-01T00:00:00Z" } };
        expect(decision.action === "destroy").toBe(destroyable(dueNow, ["dev"]));
      }),
      { numRuns: 2000 },
    );
  });

  it("does destroy every such stack (the property above is not met by keeping everything)", () => {
    const past = fc
      .date({ min: new Date("2020-01-01T00:00:00Z"), max: NOW, noInvalidDate: true })
      .map((d) => d.toISOString());
    fc.assert(
      fc.property(fc.constantFrom("pr-1", "pr-999", "feature-x"), past, (name, expiresAt) => {
        const s: StackFacts = {
          name,
          tags: { ephemeral: "true", environment: "ephemeral", "expires-at": expiresAt },
          stackFiles: [{ file: `Pulumi.${name}.yaml`, hasConfig: true, environment: "ephemeral" }],
          backendEnvironment: "ephemeral",
          stateEnvironments: ["ephemeral"],
          protectedResources: [],
        };
        expect(decide(s, NOW).action).toBe("destroy");
      }),
    );
  });
});
