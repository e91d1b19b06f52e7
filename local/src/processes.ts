import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, mkdirSync } from "node:fs";
import * as path from "node:path";
import { createInterface } from "node:readline";

/**
 * Child processes of the stack, each in its own process group (detached), so a stop reaches a
 * launcher and everything it started (TorchServe's Java frontend and Python workers), and Ctrl-C in
 * the terminal reaches only `npm start`, which then stops them in order.
 */

const groups = new Set<ChildProcess>();

export interface RunOptions {
  readonly cwd?: string;
  readonly env?: Record<string, string>;
  /** Each output line, as it comes. */
  readonly onLine?: (line: string) => void;
  /** Also append every line to this file. */
  readonly logFile?: string;
  /** Start from this process's environment (the default), or from `env` alone. */
  readonly inheritEnv?: boolean;
}

function launch(command: string, args: readonly string[], o: RunOptions): ChildProcess {
  const child = spawn(command, args, {
    cwd: o.cwd,
    env: o.inheritEnv === false ? { ...o.env } : { ...process.env, ...o.env },
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  groups.add(child);
  child.on("exit", () => groups.delete(child));
  let file: ReturnType<typeof createWriteStream> | undefined;
  if (o.logFile) {
    mkdirSync(path.dirname(o.logFile), { recursive: true });
    file = createWriteStream(o.logFile, { flags: "a" });
  }
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    createInterface({ input: stream }).on("line", (line) => {
      file?.write(`${line}\n`);
      o.onLine?.(line);
    });
  }
  child.on("close", () => file?.end());
  return child;
}

/** Runs a command to its end; rejects with its last lines when it fails. */
export function run(command: string, args: readonly string[], o: RunOptions = {}): Promise<string[]> {
  const lines: string[] = [];
  return new Promise((resolve, reject) => {
    const child = launch(command, args, {
      ...o,
      onLine: (line) => {
        lines.push(line);
        o.onLine?.(line);
      },
    });
    child.on("error", (error) => reject(new Error(`${command}: ${error.message}`)));
    child.on("close", (code, signal) => {
      if (code === 0) resolve(lines);
      else {
        const how = signal ? `was stopped by ${signal}` : `exited with ${code}`;
        reject(new Error(`${[command, ...args].join(" ")} ${how}:\n${lines.slice(-25).join("\n")}`));
      }
    });
  });
}

export interface Service {
  readonly name: string;
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts a long-running process and resolves once a line matches `ready` (with the match), or
 * rejects when it exits first or `timeoutMs` passes (then it is stopped).
 */
export function startService(
  name: string,
  command: string,
  args: readonly string[],
  o: RunOptions & { ready: RegExp; timeoutMs: number },
): Promise<{ service: Service; match: RegExpMatchArray }> {
  const tail: string[] = [];
  return new Promise((resolve, reject) => {
    let settled = false;
    const child = launch(command, args, {
      ...o,
      onLine: (line) => {
        tail.push(line);
        if (tail.length > 40) tail.shift();
        o.onLine?.(line);
        const match = !settled ? line.match(o.ready) : null;
        if (match) {
          settled = true;
          clearTimeout(timer);
          resolve({ service, match });
        }
      },
    });
    const service: Service = { name, child, stop: () => stopGroup(child) };
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      void stopGroup(child);
      reject(new Error(`${name} was not ready after ${o.timeoutMs / 1000} s; its last lines:\n${tail.join("\n")}`));
    }, o.timeoutMs);
    child.on("error", (error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(new Error(`${name}: ${error.message}`));
    });
    child.on("exit", (code, signal) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(new Error(`${name} exited (${signal ?? code}) before it was ready; its last lines:\n${tail.join("\n")}`));
    });
  });
}

const exited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;

/** SIGTERM to the child's process group, SIGKILL after `graceMs`; resolves when the child has exited. */
export async function stopGroup(child: ChildProcess, graceMs = 30_000): Promise<void> {
  if (exited(child) || child.pid === undefined) return;
  const gone = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-(child.pid as number), sig);
    } catch {
      // the group is gone already
    }
  };
  signal("SIGTERM");
  const timer = setTimeout(() => signal("SIGKILL"), graceMs);
  await gone;
  clearTimeout(timer);
  // The leader is gone; anything left in its group (a worker that ignored SIGTERM) goes too.
  signal("SIGKILL");
}

/** Every process group still running (a step interrupted by Ctrl-C), stopped. */
export async function stopAllGroups(): Promise<void> {
  await Promise.all([...groups].map((child) => stopGroup(child, 10_000)));
}
