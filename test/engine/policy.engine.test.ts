import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CliProject, cliProject, ok } from "./cli";
import { type EngineTools, findEngine, repoRoot } from "./harness";

/**
 * `pulumi preview --policy-pack policy` with the real CLI, our Node.js language host running the pack
 * (RunPlugin), and a program that registers Alibaba Cloud resources. The Alibaba Cloud provider plugin
 * is replaced by a stand-in that accepts inputs as given (fixtures/alicloud-stand-in).
 */

const fixtures = path.join(__dirname, "fixtures");
const policyPack = path.join(repoRoot, "policy");
let tools: EngineTools | undefined;
let project: CliProject;

beforeAll(async () => {
  tools = await findEngine();
  if (!tools) return;
  project = cliProject(tools, path.join(fixtures, "policy-programs"), [path.join(fixtures, "alicloud-stand-in")]);
  for (const variant of ["compliant", "violating"]) {
    ok(project.pulumi(["stack", "init", variant]));
    ok(project.pulumi(["config", "set", "variant", variant, "--stack", variant]));
    ok(project.pulumi(["config", "set", "search-backbone:environment", "dev", "--stack", variant]));
  }
});

afterAll(() => project?.cleanup());

describe("pulumi preview --policy-pack policy", () => {
  it("passes a compliant program", async (ctx) => {
    if (!tools) ctx.skip();
    const result = project.pulumi(["preview", "--policy-pack", policyPack, "--stack", "compliant"]);
    expect(result.status, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain("search-backbone@v0.1.0");
    expect(result.stdout).not.toMatch(/mandatory|advisory/);
  });

  it("fails a violating program and names each violated rule", async (ctx) => {
    if (!tools) ctx.skip();
    const result = project.pulumi(["preview", "--policy-pack", policyPack, "--stack", "violating"]);
    const text = result.stdout + result.stderr;
    expect(result.status, text).not.toBe(0);
    for (const rule of [
      "oss-no-public-access",
      "oss-encrypted",
      "sg-no-open-ingress",
      "ram-no-wildcard-admin",
      "required-tags",
    ]) {
      expect(text, rule).toMatch(new RegExp(`\\[mandatory\\]\\s+${rule}`));
    }
    expect(text).toContain('bucket policy-check-docs has ACL "public-read"; expected "private"');
    expect(text).toContain("ingress from 0.0.0.0/0 on ports 22-22 (tcp); declared public ports: none");
    expect(text).toContain("missing tags: project, stack, environment");
  });

  it("lets the policy config declare a port public", async (ctx) => {
    if (!tools) ctx.skip();
    const config = path.join(project.workDir, "policy-config.json");
    require("node:fs").writeFileSync(config, JSON.stringify({ "sg-no-open-ingress": { publicPorts: [22] } }));
    const args = ["preview", "--policy-pack", policyPack, "--policy-pack-config", config, "--stack", "violating"];
    const result = project.pulumi(args);
    expect(result.status).not.toBe(0);
    expect(result.stdout + result.stderr).not.toContain("sg-no-open-ingress");
    expect(result.stdout + result.stderr).toContain("oss-no-public-access");
  });
});
