import { spawn } from "node:child_process";
import { createInterface } from "node:readline";

/**
 * Runs one step's child process (a models/ CLI command, the backbone's setup or ingest) to its end,
 * passing its progress lines through indented, and keeps its stdout for the caller. A failure names
 * the command and its last lines. SIGINT/SIGTERM of the loop reach the child through the process group.
 */
export interface SpawnOptions {
  readonly cwd: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly echo: (line: string) => void;
  /** Echo stdout too (the backbone CLI logs there; the models CLI prints its result there). */
  readonly echoStdout?: boolean;
}

const running = new Set<ReturnType<typeof spawn>>();

/** Stops the children still running (the loop was interrupted). */
export function stopChildren(): void {
  for (const child of running) child.kill("SIGTERM");
}

export function runChild(command: string, args: readonly string[], o: SpawnOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: o.cwd,
      env: { ...process.env, ...o.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    running.add(child);
    const stdout: string[] = [];
    const tail: string[] = [];
    const keep = (line: string) => {
      tail.push(line);
      if (tail.length > 20) tail.shift();
    };
    createInterface({ input: child.stdout }).on("line", (line) => {
      stdout.push(line);
      keep(line);
      if (o.echoStdout) o.echo(line);
    });
    createInterface({ input: child.stderr }).on("line", (line) => {
      keep(line);
      o.echo(line);
    });
    child.on("error", (error) => {
      running.delete(child);
      reject(new Error(`${command} could not start: ${error.message}`));
    });
    child.on("close", (code, signal) => {
      running.delete(child);
      if (code === 0) resolve(stdout.join("\n"));
      else
        reject(
          new Error(
            `${[command, ...args].join(" ")} failed (${signal ?? `exit ${code}`}); last lines:\n  ${tail.join("\n  ")}`,
          ),
        );
    });
  });
}
