import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { type EngineTools, engineEnv, repoRoot } from "./harness";

/** The CLI as a user or a workflow runs it: exit status and both streams, never an exception. */
export interface CliResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliProject {
  readonly workDir: string;
  readonly stateDir: string;
  readonly env: Record<string, string>;
  pulumi(args: string[], extraEnv?: Record<string, string>): CliResult;
  cleanup(): void;
}

/**
 * Copies a fixture project to a temporary folder (with the repository's node_modules linked in) and
 * gives it a private file backend.
 */
export function cliProject(tools: EngineTools, fixture: string, extraPath: string[] = []): CliProject {
  const workDir = mkdtempSync(path.join(tmpdir(), "backbone-cli-"));
  const stateDir = mkdtempSync(path.join(tmpdir(), "backbone-cli-state-"));
  cpSync(fixture, workDir, { recursive: true });
  symlinkSync(path.join(repoRoot, "node_modules"), path.join(workDir, "node_modules"));
  const base = engineEnv(tools, stateDir);
  const env = { ...process.env, ...base, PATH: [...extraPath, base.PATH].join(path.delimiter) } as Record<
    string,
    string
  >;
  return {
    workDir,
    stateDir,
    env,
    pulumi(args, extraEnv = {}) {
      const run = spawnSync(path.join(tools.binDir, "pulumi"), [...args, "--non-interactive"], {
        cwd: workDir,
        env: { ...env, ...extraEnv },
        encoding: "utf8",
        maxBuffer: 64 * 1024 * 1024,
      });
      return { status: run.status ?? -1, stdout: run.stdout, stderr: run.stderr };
    },
    cleanup() {
      for (const dir of [workDir, stateDir]) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Fails with the CLI's own output, which says more than a bare exit status. */
export function ok(result: CliResult): CliResult {
  if (result.status !== 0) throw new Error(`pulumi exited ${result.status}:\n${result.stdout}\n${result.stderr}`);
  return result;
}
