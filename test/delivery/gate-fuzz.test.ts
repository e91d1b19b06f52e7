import { spawnSync } from "node:child_process";
import * as path from "node:path";
import fc from "fast-check";
import { TYPE } from "search-backbone-policy/exposure";
import { describe, expect, it } from "vitest";
import { runCli } from "../../scripts/preview-gate/cli.ts";
import { repoRoot } from "../helpers/stack-files";

/**
 * Fuzzing the gate's reader: arbitrary JSON values in every position of a preview (and inside the
 * inputs the exposure rules read) give exit 0, 1 or 2 with a message, never an uncaught exception.
 */

function gateInProcess(input: string, args: string[] = []) {
  const out: string[] = [];
  const err: string[] = [];
  const status = runCli(["--stack", "dev", ...args], {
    read: () => input,
    write: () => {},
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
  });
  return { status, stdout: out.join(""), stderr: err.join("") };
}

const anyJson = fc.jsonValue({ maxDepth: 3 });
/** A well-typed value or any JSON value, so each position is sometimes right and sometimes anything. */
const either = <T>(good: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 3, arbitrary: good }, { weight: 1, arbitrary: anyJson });

const types = fc.constantFrom(...Object.values(TYPE), "alicloud:cs/nodePool:NodePool", "alicloud:vpc/network:Network");
const inputValue = fc.oneof(
  anyJson,
  fc.constantFrom("0.0.0.0/0", "10.0.0.0/8", "public-read", "Internet", "PUBLIC", "Nat", true, false, 5, "*"),
  fc.array(fc.constantFrom("0.0.0.0/0", "10.20.0.0/16", "ecs.gn7i-c8g1.2xlarge", "ecs.g7.xlarge"), { maxLength: 3 }),
  anyJson.map((v) => JSON.stringify({ Statement: v })),
);
const inputKeys = fc.constantFrom(
  "acl",
  "blockPublicAccess",
  "type",
  "policy",
  "cidrIp",
  "ipv6CidrIp",
  "portRange",
  "enablePublic",
  "publicWhitelists",
  "privateWhitelists",
  "slbInternetEnabled",
  "repoType",
  "defaultVisibility",
  "enable",
  "endpointType",
  "entry",
  "addressType",
  "spec",
  "metadata",
  "externalIp",
  "instanceType",
  "instanceTypes",
  "internetMaxBandwidthOut",
  "userData",
  "policyDocument",
  "statements",
  "policyName",
  "serviceConfig",
  "tags",
  "description",
  "desiredSize",
  "clusterSpec",
  "cidrBlock",
  "toString",
  "__proto__",
);
const inputs = either(fc.dictionary(inputKeys, inputValue, { maxKeys: 6 }));
const state = either(
  fc.record({ type: either(types), inputs, outputs: inputs, protect: either(fc.boolean()) }, { requiredKeys: [] }),
);
const ops = fc.constantFrom(
  "create",
  "update",
  "replace",
  "delete",
  "same",
  "create-replacement",
  "delete-replaced",
  "read",
);
const step = either(
  fc.record(
    {
      op: either(ops),
      urn: either(types.map((t) => `urn:pulumi:dev::p::${t}::r`)),
      oldState: state,
      newState: state,
      diffReasons: either(fc.array(fc.string(), { maxLength: 3 })),
      replaceReasons: either(fc.array(fc.string(), { maxLength: 3 })),
      detailedDiff: either(
        fc.dictionary(fc.string(), either(fc.record({ kind: either(fc.string()) })), { maxKeys: 3 }),
      ),
    },
    { requiredKeys: [] },
  ),
);
const diagnostic = either(
  fc.record(
    {
      urn: either(fc.string()),
      message: either(fc.string()),
      severity: either(fc.constantFrom("error", "warning", "info")),
    },
    { requiredKeys: [] },
  ),
);
const preview = either(
  fc.record(
    {
      steps: either(fc.array(step, { maxLength: 5 })),
      diagnostics: either(fc.array(diagnostic, { maxLength: 3 })),
      changeSummary: either(fc.dictionary(fc.constantFrom("create", "update", "same", "delete"), either(fc.nat()))),
    },
    { requiredKeys: [] },
  ),
);

function checkOutcome(run: { status: number | null; stdout: string; stderr: string }): void {
  expect([0, 1, 2]).toContain(run.status);
  const lines = run.stderr.trimEnd().split("\n");
  expect(lines, run.stderr).toHaveLength(1);
  expect(run.stderr).toMatch(/^preview-gate: /);
  expect(run.stderr).not.toMatch(/\bat .*\.ts:\d+/);
  if (run.status === 2) expect(run.stdout).toBe("");
  else expect(run.stdout).toContain("### Preview of `dev`");
}

describe("the gate's reader under arbitrary JSON (property)", () => {
  it("answers every preview-shaped value with 0, 1 or 2 and one line, never an exception", () => {
    fc.assert(
      fc.property(preview, (value) => {
        checkOutcome(gateInProcess(JSON.stringify(value) ?? "null"));
      }),
      { numRuns: 3000 },
    );
  });

  it("answers arbitrary text the same way", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          anyJson.map((v) => JSON.stringify(v) ?? ""),
        ),
        (text) => {
          checkOutcome(gateInProcess(text));
        },
      ),
      { numRuns: 1000 },
    );
  });

  it("behaves the same as a process, for a sample of the generated inputs", () => {
    const samples = fc.sample(preview, { numRuns: 12, seed: 18 });
    for (const value of samples) {
      const input = JSON.stringify(value) ?? "null";
      const run = spawnSync(process.execPath, [path.join(repoRoot, "scripts/preview-gate/main.ts"), "--stack", "dev"], {
        input,
        encoding: "utf8",
      });
      checkOutcome(run);
      expect(run.status).toBe(gateInProcess(input).status);
    }
  });
});
