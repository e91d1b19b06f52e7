import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { LocalWorkspace, PulumiCommand, type PulumiFn, type Stack } from "@pulumi/pulumi/automation";
import { repoRoot } from "../helpers/stack-files";

export { repoRoot };

/**
 * Runs programs through the real Pulumi engine on a file backend in a temporary folder, with
 * passphrase secrets and nothing fetched from the network. Later suites reuse it.
 */

export interface EngineTools {
  readonly binDir: string;
  readonly command: PulumiCommand;
}

/**
 * Finds the CLI that scripts/pulumi-engine.sh provides. Without it, engine tests skip locally,
 * but under CI=true a missing CLI is a failure.
 */
export async function findEngine(): Promise<EngineTools | undefined> {
  let binDir: string | undefined;
  try {
    binDir = execFileSync("bash", [path.join(repoRoot, "scripts/pulumi-engine.sh")], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      // Building takes minutes; that belongs to the set-up step, not to a test run.
      env: { ...process.env, BACKBONE_ENGINE_NO_BUILD: "1" },
    }).trim();
  } catch (error) {
    if (process.env.CI === "true") throw new Error(`the Pulumi CLI is required under CI: ${(error as Error).message}`);
    return undefined;
  }
  const command = await PulumiCommand.get({ root: path.dirname(binDir) });
  const pinned = pinnedCliVersion();
  if (!command.version || command.version.compare(pinned) < 0) {
    throw new Error(`the Pulumi CLI in ${binDir} is ${command.version ?? "unknown"}; at least v${pinned} is required`);
  }
  return { binDir, command };
}

/** The SDK version in package-lock.json, which the CLI must match or exceed. */
export function pinnedCliVersion(): string {
  const lock = JSON.parse(readFileSync(path.join(repoRoot, "package-lock.json"), "utf8"));
  return lock.packages["node_modules/@pulumi/pulumi"].version;
}

/** Environment for a CLI run: a private file backend, passphrase secrets, no network fetches. */
export function engineEnv(tools: EngineTools, stateDir: string): Record<string, string> {
  return {
    PULUMI_BACKEND_URL: `file://${stateDir}`,
    PULUMI_CONFIG_PASSPHRASE: "engine-test-passphrase",
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    // Plugins (the language host, the dynamic-provider shim) are looked up beside the CLI and on PATH.
    PATH: `${tools.binDir}${path.delimiter}${process.env.PATH ?? ""}`,
    // The dynamic-provider shim resolves @pulumi/pulumi from its working folder, a temp dir here.
    NODE_PATH: path.join(repoRoot, "node_modules"),
  };
}

export interface EngineStack {
  readonly stack: Stack;
  readonly stateDir: string;
  /** Removes the temporary backend and work folders. */
  cleanup(): void;
}

export async function createEngineStack(
  tools: EngineTools,
  projectName: string,
  program: PulumiFn,
  stackName = "engine-test",
): Promise<EngineStack> {
  const stateDir = mkdtempSync(path.join(tmpdir(), "backbone-engine-"));
  const envVars = engineEnv(tools, stateDir);
  const stack = await LocalWorkspace.createOrSelectStack(
    { stackName, projectName, program },
    {
      pulumiCommand: tools.command,
      envVars,
      projectSettings: { name: projectName, runtime: "nodejs", backend: { url: `file://${stateDir}` } },
    },
  );
  return {
    stack,
    stateDir,
    cleanup: () => rmSync(stateDir, { recursive: true, force: true }),
  };
}

export const stateFileExists = (stateDir: string, project: string, stack: string): boolean =>
  existsSync(path.join(stateDir, ".pulumi", "stacks", project, `${stack}.json`));
