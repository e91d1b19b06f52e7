// Usage: node scripts/stacks/teardown.ts [--yes] [--work-dir <project dir>] [--now <RFC 3339>]
// Finds expired ephemeral stacks (scripts/stacks/lifecycle-tags.ts), destroys and removes them with
// --yes (a dry run otherwise), prints a JSON report, and exits 1 if any destroy failed.
import * as path from "node:path";
import { parseArgs } from "node:util";
import { LocalWorkspace, type LocalWorkspaceOptions } from "@pulumi/pulumi/automation/index.js";
import { decide, type StackFacts } from "./lifecycle-tags.ts";

export interface TeardownEntry {
  readonly stack: string;
  readonly action: "destroyed" | "would-destroy" | "kept" | "failed";
  readonly reason: string;
  readonly resourcesDeleted?: number;
  readonly error?: string;
}

export interface TeardownReport {
  readonly dryRun: boolean;
  readonly now: string;
  readonly stacks: TeardownEntry[];
  readonly failed: number;
}

export interface TeardownOptions {
  readonly workDir: string;
  readonly now: Date;
  readonly dryRun: boolean;
  /** Passed to the workspace: the CLI to use, environment (backend URL, passphrase). */
  readonly workspace?: Omit<LocalWorkspaceOptions, "workDir">;
  readonly log?: (line: string) => void;
}

async function factsOf(workspace: LocalWorkspace, name: string): Promise<StackFacts> {
  const tags = await workspace.listTags(name);
  let configEnvironment: string | undefined;
  try {
    const config = await workspace.getAllConfig(name);
    configEnvironment = Object.entries(config).find(([key]) => key.endsWith(":environment"))?.[1]?.value;
  } catch {
    // No config file for this stack on disk (the nightly job has only tags): tags decide.
  }
  return { name, tags, ...(configEnvironment !== undefined ? { configEnvironment } : {}) };
}

/** The engine's own error lines from a failed command (the rest is progress output). */
function errorLines(text: string): string {
  const errors = [
    ...new Set(
      text
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => /^error:/.test(l)),
    ),
  ];
  return (errors.length > 0 ? errors : text.trim().split("\n").slice(-3)).join(" ").slice(0, 2000);
}

export async function teardown(options: TeardownOptions): Promise<TeardownReport> {
  const log = options.log ?? (() => {});
  const workspace = await LocalWorkspace.create({ ...options.workspace, workDir: options.workDir });
  const stacks: TeardownEntry[] = [];
  for (const summary of await workspace.listStacks()) {
    const name = summary.name;
    let decision: ReturnType<typeof decide>;
    try {
      decision = decide(await factsOf(workspace, name), options.now);
    } catch (error) {
      stacks.push({ stack: name, action: "failed", reason: "could not read its tags", error: String(error) });
      continue;
    }
    if (decision.action === "keep") {
      stacks.push({ stack: name, action: "kept", reason: decision.reason });
      continue;
    }
    if (options.dryRun) {
      stacks.push({ stack: name, action: "would-destroy", reason: decision.reason });
      continue;
    }
    log(`teardown: destroying ${name} (${decision.reason})`);
    try {
      const stack = await LocalWorkspace.selectStack({ stackName: name, workDir: options.workDir }, options.workspace);
      const result = await stack.destroy({ remove: true });
      stacks.push({
        stack: name,
        action: "destroyed",
        reason: decision.reason,
        resourcesDeleted: result.summary.resourceChanges?.delete ?? 0,
      });
    } catch (error) {
      // Keep going: one stuck stack must not shield the others from teardown.
      const message = errorLines((error as Error).message);
      stacks.push({ stack: name, action: "failed", reason: decision.reason, error: message });
    }
  }
  return {
    dryRun: options.dryRun,
    now: options.now.toISOString(),
    stacks,
    failed: stacks.filter((s) => s.action === "failed").length,
  };
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      yes: { type: "boolean", default: false },
      "work-dir": { type: "string", default: "." },
      now: { type: "string" },
    },
  });
  const now = values.now ? new Date(values.now) : new Date();
  if (Number.isNaN(now.getTime())) {
    console.error(`teardown: --now ${JSON.stringify(values.now)}: expected an RFC 3339 time like 2026-11-23T06:00:00Z`);
    return 2;
  }
  const report = await teardown({
    workDir: path.resolve(values["work-dir"]),
    now,
    dryRun: !values.yes,
    log: (line) => console.error(line),
  });
  console.log(JSON.stringify(report, null, 2));
  return report.failed > 0 ? 1 : 0;
}

if (import.meta.main) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (error) => {
      console.error(`teardown: ${(error as Error).message}`);
      process.exitCode = 2;
    },
  );
}
