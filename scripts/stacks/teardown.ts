// Usage: node scripts/stacks/teardown.ts [--yes] [--work-dir <project dir>] [--now <RFC 3339>]
//          [--protected-stacks dev,prod,…] [--only <stack>]
// Finds expired ephemeral stacks (scripts/stacks/lifecycle-tags.ts), destroys and removes them with
// --yes (a dry run otherwise), prints a JSON report, and exits 1 if any destroy failed. With --only,
// only that stack is considered and it is due now (a closed PR's stack): every keep rule but expiry
// applies, and the exit status is 1 when it is kept, so the calling workflow notices.
import * as path from "node:path";
import { parseArgs } from "node:util";
import { LocalWorkspace, type LocalWorkspaceOptions, Stack } from "@pulumi/pulumi/automation/index.js";
import { DEFAULT_PROTECTED_STACKS, decide, parseRfc3339, type StackFacts } from "./lifecycle-tags.ts";
import { stackFilesOf } from "./stack-files.ts";

export interface TeardownEntry {
  readonly stack: string;
  /** `absent`: only with `only`, when the backend has no such stack (nothing to destroy). */
  readonly action: "destroyed" | "would-destroy" | "kept" | "failed" | "absent";
  readonly reason: string;
  readonly resourcesDeleted?: number;
  readonly error?: string;
}

export interface TeardownReport {
  readonly dryRun: boolean;
  readonly now: string;
  /** The one stack asked for, when `only` was given. */
  readonly only?: string;
  readonly stacks: TeardownEntry[];
  readonly failed: number;
}

export interface TeardownOptions {
  readonly workDir: string;
  readonly now: Date;
  readonly dryRun: boolean;
  /** Stack names never torn down (default DEFAULT_PROTECTED_STACKS); `prod` always is. */
  readonly protectedStacks?: readonly string[];
  /** Only this stack (its full or short name), due now: every keep rule but expiry applies. */
  readonly only?: string;
  /** Passed to the workspace: the CLI to use, environment (backend URL, passphrase). */
  readonly workspace?: Omit<LocalWorkspaceOptions, "workDir">;
  readonly log?: (line: string) => void;
}

const environmentIn = (config: Record<string, unknown> | undefined): string | undefined => {
  const entry = Object.entries(config ?? {}).find(([key]) => key.endsWith(":environment"));
  if (!entry) return undefined;
  const value = (entry[1] as { value?: unknown } | undefined)?.value ?? entry[1];
  return typeof value === "string" ? value : JSON.stringify(value);
};

/** Every source of a stack's lifecycle: tags, its stack file, its last update's config, its state. */
async function factsOf(workspace: LocalWorkspace, workDir: string, name: string): Promise<StackFacts> {
  const tags = await workspace.listTags(name);
  const deployment = await workspace.exportStack(name);
  const resources: any[] = Array.isArray(deployment?.deployment?.resources) ? deployment.deployment.resources : [];
  const protectedResources = resources.filter((r) => r?.protect === true).map((r) => String(r.urn));
  const stateEnvironments = [
    ...new Set(
      resources
        .map((r) => r?.inputs?.tags?.environment ?? r?.outputs?.tags?.environment)
        .filter((e): e is string => typeof e === "string"),
    ),
  ];
  const [last] = await (await Stack.select(name, workspace)).history(1, 1);
  const backendEnvironment = environmentIn(last?.config);
  const stackFiles = stackFilesOf(workDir, name);
  return {
    name,
    tags,
    protectedResources,
    stateEnvironments,
    ...(stackFiles.length > 0 ? { stackFiles } : {}),
    ...(backendEnvironment !== undefined ? { backendEnvironment } : {}),
  };
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
  const { only } = options;
  const names = (await workspace.listStacks())
    .map((summary) => summary.name)
    .filter((name) => only === undefined || name === only || name.endsWith(`/${only}`));
  if (only !== undefined && names.length === 0) {
    stacks.push({ stack: only, action: "absent", reason: "the backend has no such stack; nothing to destroy" });
  }
  for (const name of names) {
    let decision: ReturnType<typeof decide>;
    try {
      decision = decide(await factsOf(workspace, options.workDir, name), options.now, {
        protectedStacks: options.protectedStacks ?? DEFAULT_PROTECTED_STACKS,
        ignoreExpiry: only !== undefined,
      });
    } catch (error) {
      // Never destroyed, and reported as a failure so the nightly job shows it.
      const message = errorLines((error as Error).message);
      stacks.push({
        stack: name,
        action: "failed",
        reason: "could not read its tags, state or history",
        error: message,
      });
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
    ...(only !== undefined ? { only } : {}),
    stacks,
    failed: stacks.filter((s) => s.action === "failed").length,
  };
}

/** 1 when a destroy failed, or when the one stack asked for with `only` was kept; 0 otherwise. */
export function exitCodeOf(report: TeardownReport): number {
  if (report.failed > 0) return 1;
  return report.only !== undefined && report.stacks.some((s) => s.action === "kept") ? 1 : 0;
}

/** A stack name as Pulumi allows it, optionally qualified by organisation and project. */
const STACK_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*(?:\/[A-Za-z0-9][A-Za-z0-9_.-]*){0,2}$/;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      yes: { type: "boolean", default: false },
      "work-dir": { type: "string", default: "." },
      now: { type: "string" },
      "protected-stacks": { type: "string", default: DEFAULT_PROTECTED_STACKS.join(",") },
      only: { type: "string" },
    },
  });
  const protectedStacks = values["protected-stacks"]
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  for (const name of [...protectedStacks, ...(values.only === undefined ? [] : [values.only])]) {
    if (!STACK_NAME.test(name)) {
      const flag = protectedStacks.includes(name) ? "--protected-stacks" : "--only";
      console.error(`teardown: ${flag} ${JSON.stringify(name)}: expected a stack name like pr-7 or org/project/pr-7`);
      return 2;
    }
  }
  const parsed = values.now === undefined ? Date.now() : parseRfc3339(values.now);
  const now = new Date(parsed ?? Number.NaN);
  if (Number.isNaN(now.getTime())) {
    console.error(`teardown: --now ${JSON.stringify(values.now)}: expected an RFC 3339 time like 2026-11-23T06:00:00Z`);
    return 2;
  }
  const report = await teardown({
    workDir: path.resolve(values["work-dir"]),
    now,
    dryRun: !values.yes,
    protectedStacks,
    ...(values.only !== undefined ? { only: values.only } : {}),
    log: (line) => console.error(line),
  });
  console.log(JSON.stringify(report, null, 2));
  for (const entry of report.stacks.filter((s) => s.action === "kept" && report.only !== undefined)) {
    console.error(`teardown: kept ${entry.stack}: ${entry.reason}`);
  }
  return exitCodeOf(report);
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
