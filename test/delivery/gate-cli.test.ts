import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { urnParts } from "../../scripts/preview-gate/preview.ts";
import { instanceHourly } from "../../scripts/preview-gate/prices.ts";
import { repoRoot } from "../helpers/stack-files";

/** Bad input to the gate's CLI. The gate on real preview JSON is in test/engine/gate.engine.test.ts. */
function gate(input: string, args = ["--stack", "dev"]) {
  const run = spawnSync(process.execPath, [path.join(repoRoot, "scripts/preview-gate/main.ts"), ...args], {
    input,
    encoding: "utf8",
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe("preview-gate CLI on bad input", () => {
  it.each([
    ["", "preview-gate: standard input is empty; expected the output of `pulumi preview --json`"],
    ["{not json", "preview-gate: standard input is not JSON ("],
    ["[1, 2]", 'preview-gate: standard input: expected a JSON object with "steps", got [1,2]'],
    ['{"steps": {}}', 'preview-gate: standard input: "steps" is object; expected an array'],
    ['{"steps": [{"op": "create"}]}', 'preview-gate: standard input: "steps[0].urn" is missing; expected a string'],
    [
      '{"steps": [{"op": "replace", "urn": "urn:pulumi:dev::p::t::n", "replaceReasons": "bucket"}]}',
      'preview-gate: standard input: "steps[0].replaceReasons" is string; expected an array',
    ],
    [
      '{"steps": [], "diagnostics": [{"severity": "error"}]}',
      'preview-gate: standard input: "diagnostics[0].message" is missing; expected a string',
    ],
    [
      '{"steps": [{"op": "update", "urn": "u", "oldState": {"protect": "yes"}}]}',
      'preview-gate: standard input: "steps[0].oldState.protect" is string; expected true or false',
    ],
    [
      '{"changeSummary": {"create": "2"}}',
      'preview-gate: standard input: "changeSummary.create" is string; expected a number',
    ],
    ['{"config": {}}', 'preview-gate: standard input: has neither "steps" nor "changeSummary"'],
  ])("rejects %j with one clear line and exit status 2", (input, message) => {
    const result = gate(input);
    expect(result.status).toBe(2);
    expect(result.stderr.startsWith(message), result.stderr).toBe(true);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stderr).not.toMatch(/\bat .*\.ts:\d+/);
    expect(result.stdout).toBe("");
  });

  it("names a missing --stack and an unreadable --input", () => {
    expect(gate("{}", []).stderr).toBe("preview-gate: --stack: missing; expected the stack name the preview is of\n");
    const missing = gate("", ["--stack", "dev", "--input", "/nonexistent/preview.json"]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toBe("preview-gate: --input /nonexistent/preview.json: cannot read it (ENOENT)\n");
  });
});

describe("preview-gate helpers", () => {
  it("reads the type and name from a nested URN", () => {
    expect(
      urnParts("urn:pulumi:dev::search-backbone::backbone:storage:Storage$alicloud:oss/bucket:Bucket::docs"),
    ).toEqual({ type: "alicloud:oss/bucket:Bucket", name: "docs" });
  });

  it("prices CPU types from vCPU and memory, and leaves GPU types unpriced", () => {
    expect(instanceHourly("ecs.g7.xlarge")).toBeCloseTo(4 * 0.1764 + 16 * 0.0221);
    expect(instanceHourly("ecs.r7.2xlarge")).toBeCloseTo(8 * 0.1764 + 64 * 0.0221);
    expect(instanceHourly("ecs.gn7i-c8g1.2xlarge")).toBeUndefined();
  });
});

describe("preview-gate and pulumi's exit status", () => {
  const empty = JSON.stringify({ steps: [], diagnostics: [], changeSummary: { same: 2 } });
  it("blocks a preview that failed without an error in its JSON (a policy violation)", () => {
    const run = gate(empty, ["--stack", "dev", "--preview-status", "255"]);
    expect(run.status).toBe(1);
    expect(run.stdout).toContain("exited 255: a mandatory policy violation or an error; see the job log");
  });
  it("passes the same JSON when pulumi succeeded, and rejects a bad status", () => {
    expect(gate(empty, ["--stack", "dev", "--preview-status", "0"]).status).toBe(0);
    expect(gate(empty, ["--stack", "dev", "--preview-status", "x"]).stderr).toBe(
      'preview-gate: --preview-status "x": expected an exit status (0-255)\n',
    );
  });
});
