import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { repoRoot } from "../helpers/stack-files";

/** Every workflow and local action in .github (actionlint checks their syntax in `npm run test:workflows`). */
function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return yamlFiles(full);
    return /\.ya?ml$/.test(entry.name) ? [full] : [];
  });
}

const files = yamlFiles(path.join(repoRoot, ".github"));
const uses = files.flatMap((file) =>
  readFileSync(file, "utf8")
    .split("\n")
    .map((line) => /^\s*(?:-\s+)?uses:\s*(\S+)(.*)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ file: path.relative(repoRoot, file), ref: m[1] as string, comment: (m[2] ?? "").trim() })),
);

describe(".github", () => {
  it("pins every third-party action to a full commit SHA, with its version in a comment", () => {
    const remote = uses.filter((u) => !u.ref.startsWith("./"));
    expect(remote.length).toBeGreaterThan(10);
    const unpinned = remote.filter(
      (u) => !/^[\w.-]+\/[\w.-]+(\/[\w./-]+)?@[0-9a-f]{40}$/.test(u.ref) || !/^# v\d/.test(u.comment),
    );
    expect(unpinned).toEqual([]);
  });

  it("uses one SHA per action everywhere", () => {
    const shas = new Map<string, Set<string>>();
    for (const u of uses.filter((x) => !x.ref.startsWith("./"))) {
      const [name, sha] = u.ref.split("@") as [string, string];
      shas.set(name, (shas.get(name) ?? new Set()).add(sha));
    }
    expect([...shas].filter(([, set]) => set.size > 1)).toEqual([]);
  });

  it("asks for an OIDC token only in jobs that assume a role, and never grants write-all", () => {
    for (const file of files.filter((f) => f.includes("/workflows/"))) {
      const workflow = parse(readFileSync(file, "utf8"));
      expect(workflow.permissions, file).toEqual({ contents: "read" });
      for (const [name, job] of Object.entries<any>(workflow.jobs)) {
        const assumesRole = (job.steps ?? []).some((s: any) => s.uses === "./.github/actions/cloud-login");
        expect(job.permissions?.["id-token"] === "write", `${file} ${name}`).toBe(assumesRole);
      }
    }
  });

  it("gives the PR workflows the flows the delivery needs", () => {
    const read = (name: string) => parse(readFileSync(path.join(repoRoot, ".github/workflows", name), "utf8"));
    expect(read("pr-preview.yml").jobs.preview.strategy.matrix.target).toEqual(["pr", "dev"]);
    expect(read("pr-close.yml").on.pull_request.types).toEqual(["closed"]);
    expect(Object.keys(read("nightly.yml").jobs)).toEqual(["teardown", "drift"]);
    const deploy = read("deploy.yml");
    expect(deploy.jobs.prod.needs).toBe("dev");
    expect(deploy.jobs.prod.environment).toBe("prod");
  });

  it("tears down only through the teardown's guards, with the protected list passed explicitly", () => {
    const read = (name: string) => parse(readFileSync(path.join(repoRoot, ".github/workflows", name), "utf8"));
    const runs = (job: any) => (job.steps as any[]).map((s) => s.run ?? "").join("\n");
    const close = read("pr-close.yml").jobs.destroy;
    const nightly = read("nightly.yml").jobs.teardown;
    for (const job of [close, nightly]) {
      expect(job.env.PROTECTED_STACKS).toMatch(/^\$\{\{ vars\.TEARDOWN_PROTECTED_STACKS \|\| 'dev,prod' \}\}$/);
      expect(runs(job)).toContain("node scripts/stacks/teardown.ts");
      expect(runs(job)).toContain('--protected-stacks "$PROTECTED_STACKS"');
      // No way around the guards: the engine's own destroy is never called directly.
      expect(runs(job)).not.toMatch(/pulumi\s+(destroy|stack\s+rm)/);
    }
    expect(runs(close)).toContain('--yes --only "$STACK"');
    // The guards and committed stack files come from the default branch, not from the closed PR.
    expect(close.steps[0].with.ref).toMatch(/^\$\{\{ github\.event\.repository\.default_branch \}\}$/);
  });
});
