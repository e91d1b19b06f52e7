import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runGate } from "../../scripts/preview-gate/gate.ts";
import { renderMarkdown } from "../../scripts/preview-gate/markdown.ts";
import { type CliProject, cliProject, ok } from "./cli";
import { type EngineTools, findEngine, repoRoot } from "./harness";

/**
 * The preview gate on JSON the real engine writes: `pulumi up` of a base program, then
 * `pulumi preview --json` of changed stages (fixtures/gate-program).
 */

const fixtures = path.join(__dirname, "fixtures");
const files = mkdtempSync(path.join(tmpdir(), "backbone-gate-files-"));
let tools: EngineTools | undefined;
let project: CliProject;

/** `--show-sames` as the workflows run it: unchanged resources (the VPC and its range) are in the JSON too. */
function previewJson(stage: string, extra: string[] = []): { json: string; status: number } {
  ok(project.pulumi(["config", "set", "stage", stage]));
  const result = project.pulumi(["preview", "--json", ...extra]);
  return { json: result.stdout, status: result.status };
}

/** The gate as CI runs it: a separate process reading the JSON file. */
function gateCli(json: string, args: string[] = []) {
  const input = path.join(files, "preview.json");
  writeFileSync(input, json);
  const run = spawnSync(
    process.execPath,
    [path.join(repoRoot, "scripts/preview-gate/main.ts"), "--stack", "gate", "--input", input, ...args],
    {
      encoding: "utf8",
    },
  );
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

beforeAll(async () => {
  tools = await findEngine();
  if (!tools) return;
  project = cliProject(tools, path.join(fixtures, "gate-program"), [path.join(fixtures, "alicloud-stand-in")]);
  ok(project.pulumi(["stack", "init", "gate"]));
  ok(project.pulumi(["config", "set", "dir", files]));
  ok(project.pulumi(["config", "set", "stage", "base"]));
  ok(project.pulumi(["up", "--yes", "--skip-preview"]));
});

afterAll(() => {
  project?.cleanup();
  rmSync(files, { recursive: true, force: true });
});

describe("the preview gate on real preview JSON", () => {
  it("passes a harmless update", async (ctx) => {
    if (!tools) ctx.skip();
    const { json, status } = previewJson("harmless");
    expect(status).toBe(0);
    const result = runGate(json, { stack: "gate" });
    expect(result.blocked).toBe(false);
    expect(result.preview.changeSummary).toMatchObject({ update: 1 });
    const markdown = renderMarkdown(result);
    expect(markdown).toContain("✅ **No dangerous change.**");
    expect(markdown).toMatch(/\| update \| `notes` \| `pulumi-nodejs:dynamic\/gate:File` \| `content` \|/);
    expect(gateCli(json).status).toBe(0);
  });

  it("reports creates, updates, replacements and deletions, a GPU pool resize and the cost of what it adds", async (ctx) => {
    if (!tools) ctx.skip();
    const { json } = previewJson("mixed");
    const result = runGate(json, { stack: "gate" });
    expect(result.preview.changeSummary).toMatchObject({ create: 2, update: 2, replace: 1, delete: 1 });
    const markdown = renderMarkdown(result);
    expect(markdown).toMatch(/\*\*Changes:\*\* .*create 2.*/);
    expect(markdown).toMatch(/\| replace \| `cache` \| `pulumi-nodejs:dynamic\/gate:File` \| `path` \|/);
    expect(markdown).toMatch(/\| delete \| `scratch` \|/);
    expect(markdown).toContain("⚠️ `gpu` (alicloud:cs/nodePool:NodePool): size change: desiredSize");
    expect(markdown).toContain("GPU capacity (ecs.gn7i-c8g1.2xlarge)");
    // 2 × ecs.g7.xlarge: 2 × (4 vCPU × 0.1764 + 16 GiB × 0.0221) × 730 h.
    expect(markdown).toContain("+1546 CNY: 2 × ecs.g7.xlarge");
    expect(markdown).toContain("estimate");
    // Replacing a dynamic file is not a stateful replacement: nothing blocks.
    expect(result.blocked).toBe(false);
  });

  it("blocks the replacement of an OSS bucket unless the override label is set", async (ctx) => {
    if (!tools) ctx.skip();
    const { json } = previewJson("stateful-replace");
    const blocked = gateCli(json);
    expect(blocked.status).toBe(1);
    expect(blocked.stdout).toContain(
      "⛔ `docs` (alicloud:oss/bucket:Bucket): replaces stateful OSS bucket (replaced because of bucket)",
    );
    expect(blocked.stdout).toContain("merge blocked");
    expect(blocked.stderr).toBe("preview-gate: gate: 1 dangerous change(s); blocked\n");
    const allowed = gateCli(json, ["--labels", "ci,allow-dangerous-changes"]);
    expect(allowed.status).toBe(0);
    expect(allowed.stdout).toContain("allowed by override: label allow-dangerous-changes");
  });

  it("flags an update of a protected resource", async (ctx) => {
    if (!tools) ctx.skip();
    const { json } = previewJson("protected-update");
    const result = runGate(json, { stack: "gate" });
    expect(result.blocked).toBe(true);
    expect(renderMarkdown(result)).toContain(
      "⛔ `ledger` (pulumi-nodejs:dynamic/gate:File): updates a protected resource",
    );
    expect(gateCli(json, ["--allow-dangerous"]).status).toBe(0);
  });

  it("blocks every update that widens exposure, each named with its old and new value, ahead of the cost", async (ctx) => {
    if (!tools) ctx.skip();
    const { json, status } = previewJson("exposure", ["--show-sames"]);
    expect(status).toBe(0);
    const result = runGate(json, { stack: "gate" });
    const found = result.assessments.flatMap((a) =>
      a.exposures.map((e) => `${a.name} ${e.rule} ${e.property}: ${e.old} → ${e.new}`),
    );
    expect(found.sort()).toEqual([
      'assets oss-public-acl acl: "private" → "public-read"',
      'https ingress-wider-than-vpc cidrIp: "10.20.0.0/16" → "0.0.0.0/0"',
      'reader ram-wildcard policyDocument (actions): [] → ["\\"*\\""]',
      'reader ram-wildcard policyDocument (resources): [] → ["\\"*\\""]',
      'reader-attachment ram-full-access policyName: "gate-reader" → "AliyunOSSFullAccess"',
      "search search-public-endpoint enablePublic: false → true",
    ]);
    const blocked = gateCli(json);
    expect(blocked.status).toBe(1);
    expect(blocked.stderr).toBe("preview-gate: gate: 6 dangerous change(s); blocked\n");
    const markdown = blocked.stdout;
    expect(markdown).toContain("beyond the VPC (10.20.0.0/16)");
    const order = ["**Exposure changes**", "| Op | Resource |", "**Estimated monthly cost change"].map((s) =>
      markdown.indexOf(s),
    );
    expect(order[0]).toBeGreaterThan(0);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(gateCli(json, ["--labels", "allow-dangerous-changes"]).status).toBe(0);
  });

  it("passes a tags-only update of a protected resource, noting it", async (ctx) => {
    if (!tools) ctx.skip();
    const { json, status } = previewJson("protected-tags");
    expect(status).toBe(0);
    const result = runGate(json, { stack: "gate" });
    expect(result.blocked).toBe(false);
    const archive = result.assessments.find((a) => a.name === "archive");
    expect(archive?.op).toBe("update");
    expect(archive?.dangers).toEqual([]);
    expect(archive?.notes[0]).toMatch(/^updates only harmless fields of a protected resource \(tags/);
    expect(gateCli(json).status).toBe(0);
  });

  it("flags the deletion of a protected resource, which the engine refuses", async (ctx) => {
    if (!tools) ctx.skip();
    const { json, status } = previewJson("protected-delete");
    expect(status).not.toBe(0);
    const result = runGate(json, { stack: "gate" });
    expect(result.blocked).toBe(true);
    const markdown = renderMarkdown(result);
    expect(markdown).toContain("the preview refused to touch a protected resource");
    expect(markdown).toMatch(/\*\*Preview errors:\*\*\n\n- .*protect/);
    // The engine touched nothing: the protected file is still there.
    expect(readFileSync(path.join(files, "ledger"), "utf8")).toBe("balance 1");
  });
});
