import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { createInterface } from "node:readline";

/** What the benchmarks share: percentiles, closed-loop load, pinned processes, the fakes' process. */

export const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return (s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN) as number;
};

export async function load(concurrency: number, total: number, one: () => Promise<number>): Promise<number[]> {
  const times: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < total) times.push(await one());
    }),
  );
  return times;
}

export const hasTaskset = spawnSync("taskset", ["-V"]).status === 0;
export const pinned = (core: string, command: string, args: string[]) =>
  hasTaskset ? (["taskset", ["-c", core, command, ...args]] as const) : ([command, args] as const);

export interface Fakes {
  readonly embeddingUrl: string;
  readonly rerankUrl: string;
  readonly es: string;
  readonly os: string;
  readonly chat: string;
}

/** vite-node's CLI: npm workspaces hoist it to the repository root's node_modules, so look upwards. */
function viteNodeCli(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const cli = path.join(dir, "node_modules/vite-node/dist/cli.mjs");
    if (existsSync(cli)) return cli;
    if (path.dirname(dir) === dir) throw new Error(`vite-node is not installed above ${__dirname}; run npm ci`);
  }
}

export async function startFakes(latencies: object, core: string): Promise<{ child: ChildProcess; urls: Fakes }> {
  const cli = viteNodeCli();
  const [command, args] = pinned(core, process.execPath, [
    cli,
    path.join(__dirname, "fakes-process.ts"),
    JSON.stringify(latencies),
  ]);
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "inherit", "ipc"] });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once("line", resolve);
    child.once("exit", (code) => reject(new Error(`fakes exited with ${code}`)));
  });
  return { child, urls: JSON.parse(line) as Fakes };
}

export function fakeLag(child: ChildProcess): Promise<Record<string, number[]>> {
  return new Promise((resolve) => {
    const onMessage = (m: any) => {
      if (m?.type !== "lag") return;
      child.off("message", onMessage);
      resolve(m.samples);
    };
    child.on("message", onMessage);
    child.send({ type: "lag" });
  });
}

/** Waits until `url`/healthz answers (10 s at most). */
export async function healthy(url: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (
      await fetch(`${url}/healthz`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** CPU time (user + system) a process has used, from /proc (Linux). */
export function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}
const CLOCK_TICKS = Number(spawnSync("getconf", ["CLK_TCK"]).stdout?.toString().trim()) || 100;
