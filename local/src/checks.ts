import { execFileSync, spawnSync } from "node:child_process";
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, statSync } from "node:fs";
import { createServer } from "node:net";
import * as path from "node:path";
import { PORT_NAMES, type Ports } from "./layout.ts";

/** Checks that run before anything starts; each problem names what is wrong and where. */

export function portFree(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** Ports in use, as messages; `ours` are ports held by this stack's own engines from a run still going. */
export async function portProblems(ports: Ports, ours: ReadonlySet<number> = new Set()): Promise<string[]> {
  const problems: string[] = [];
  for (const [key, port] of Object.entries(ports) as [keyof Ports, number][]) {
    if (ours.has(port)) continue;
    if (!(await portFree(port))) {
      problems.push(
        `port ${port} on 127.0.0.1 (${PORT_NAMES[key]}) is in use by another process; stop it${key === "orchestrator" ? " or pass --port <n>" : ""}`,
      );
    }
  }
  return problems;
}

/** The major version in `java -version` output ("17.0.15", "1.8.0_402" -> 8). */
export function javaMajor(versionOutput: string): number | undefined {
  const m = /version "(\d+)(?:\.(\d+))?/.exec(versionOutput);
  if (!m) return undefined;
  const first = Number(m[1]);
  return first === 1 && m[2] ? Number(m[2]) : first;
}

/** TorchServe's frontend needs Java 17+ on PATH (or JAVA_HOME); the engines find their own JDKs. */
export function javaProblem(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const java = env.JAVA_HOME ? path.join(env.JAVA_HOME, "bin", "java") : "java";
  // `java -version` writes to stderr.
  const done = spawnSync(java, ["-version"], { encoding: "utf8" });
  if (done.error)
    return `java: not found (${env.JAVA_HOME ? `JAVA_HOME=${env.JAVA_HOME}` : "on PATH"}); TorchServe needs a JDK 17 or newer (apt-get install openjdk-17-jdk-headless)`;
  const out = `${done.stdout}${done.stderr}`;
  const major = javaMajor(out);
  if (major === undefined || major < 17)
    return `java: ${java} is version ${major ?? "unknown"}; TorchServe needs 17 or newer (set JAVA_HOME)`;
  return undefined;
}

/** Python 3.11 for models/: the project's .venv, or one setup.sh can build it from. */
export function pythonProblem(root: string): string | undefined {
  const venv = path.join(root, ".venv", "bin", "python");
  const is311 = (python: string) => {
    try {
      execFileSync(python, ["-c", "import sys; sys.exit(sys.version_info[:2] != (3, 11))"], { stdio: "ignore" });
      return true;
    } catch {
      return false;
    }
  };
  if (existsSync(venv)) {
    if (!is311(venv)) return `python: ${venv} is not Python 3.11; remove .venv and run npm start again`;
    if (!existsSync(path.join(root, ".venv", "bin", "torchserve")))
      return `python: ${path.join(root, ".venv")} has no torchserve; run bash scripts/setup.sh`;
    return undefined;
  }
  if (["python3.11", "python3"].some(is311)) return undefined;
  return "python: no Python 3.11 found (.venv is missing and neither python3.11 nor python3 is 3.11); install it or set PYTHON";
}

/** The documents folder: it exists, is a folder and holds at least one file. */
export function docsProblem(folder: string): string | undefined {
  if (!existsSync(folder)) return `--docs: ${folder} does not exist`;
  if (!statSync(folder).isDirectory()) return `--docs: ${folder} is not a folder`;
  const any = (dir: string): boolean =>
    readdirSync(dir, { withFileTypes: true }).some((e) =>
      e.isDirectory() ? any(path.join(dir, e.name)) : e.isFile() && !e.name.startsWith("."),
    );
  if (!any(folder)) return `--docs: ${folder} holds no documents`;
  return undefined;
}

/** CHAT_LOG_ENABLED from the user's environment: unset, true or false (the orchestrator's values). */
export function chatLogProblem(env: Readonly<Record<string, string | undefined>>): string | undefined {
  const value = env.CHAT_LOG_ENABLED;
  if (value === undefined || value === "" || value === "true" || value === "false") return undefined;
  return `CHAT_LOG_ENABLED: given ${JSON.stringify(value)}; expected true or false (false: no chat log in .local/logs/chat)`;
}

/** Engine ports held by this stack's own nodes (pid files of scripts/engines.sh under its run folder). */
export function ownEnginePorts(enginesRun: string, ports: Ports): Set<number> {
  const ours = new Set<number>();
  const alive = (pidFile: string) => {
    try {
      process.kill(Number(readFileSync(pidFile, "utf8").trim()), 0);
      return true;
    } catch {
      return false;
    }
  };
  if (alive(path.join(enginesRun, `opensearch-${ports.opensearch}`, "node.pid")))
    for (const p of [ports.opensearch, ports.opensearchTransport]) ours.add(p);
  if (alive(path.join(enginesRun, `elasticsearch-${ports.elasticsearch}`, "node.pid")))
    for (const p of [ports.elasticsearch, ports.elasticsearchTransport]) ours.add(p);
  return ours;
}

/** A model archive TorchServe can open: a .mar is a zip, so it starts with a zip header. */
export function archiveProblem(file: string): string | undefined {
  if (!existsSync(file)) return `model archive ${file} is missing`;
  const head = Buffer.alloc(4);
  const fd = openSync(file, "r");
  try {
    readSync(fd, head, 0, 4, 0);
  } finally {
    closeSync(fd);
  }
  if (!head.equals(Buffer.from([0x50, 0x4b, 0x03, 0x04])))
    return `model archive ${file} is corrupt (not a zip); delete it and run npm start again to rebuild it`;
  return undefined;
}
