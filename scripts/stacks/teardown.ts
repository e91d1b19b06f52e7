// Usage: node scripts/stacks/teardown.ts [--yes] [--work-dir <project dir>] [--now <RFC 3339>]
//          [--protected-stacks dev,prod,…]
// Finds expired ephemeral stacks (scripts/stacks/lifecycle-tags.ts), destroys and removes them with
// --yes (a dry run otherwise), prints a JSON report, and exits 1 if any destroy failed.
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { LocalWorkspace, type LocalWorkspaceOptions, Stack } from "@pulumi/pulumi/automation/index.js";
import { parse } from "yaml";
import { DEFAULT_PROTECTED_STACKS, decide, parseRfc3339, type StackFacts, type StackFile } from "./lifecycle-tags.ts";

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
  /** Stack names never torn down (default DEFAULT_PROTECTED_STACKS); `prod` always is. */
  readonly protectedStacks?: readonly string[];
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

/** `Pulumi.<stack>.yaml` beside Pulumi.yaml, as committed (not through the CLI, which would create it). */
function stackFileOf(workDir: string, name: string): StackFile | undefined {
  const file = `Pulumi.${name.split("/").pop()}.yaml`;
  const full = path.join(workDir, file);
  if (!existsSync(full)) return undefined;
  try {
    const config = parse(readFileSync(full, "utf8"))?.config;
    if (typeof config !== "object" || config === null) return { file, hasConfig: false };
    const environment = Object.entries(config).find(([key]) => key.endsWith(":environment"))?.[1];
    if (environment === undefined) return { file, hasConfig: true };
    const text = typeof environment === "string" ? environment : JSON.stringify(environment);
    return { file, hasConfig: true, environment: text };
  } catch (error) {
    return { file, hasConfig: true, error: (error as Error).message.split("\n")[0] as string };
  }
}

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
  const stackFile = stackFileOf(workDir, name);
  return {
    name,
    tags,
    protectedResources,
    stateEnvironments,
    ...(stackFile ? { stackFile } : {}),
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
  for (const summary of await workspace.listStacks()) {
    const name = summary.name;
    let decision: ReturnType<typeof decide>;
    try {
      decision = decide(await factsOf(workspace, options.workDir, name), options.now, {
        protectedStacks: options.protectedStacks ?? DEFAULT_PROTECTED_STACKS,
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
      "protected-stacks": { type: "string", default: DEFAULT_PROTECTED_STACKS.join(",") },
    },
  });
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
    protectedStacks: values["protected-stacks"]
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
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
