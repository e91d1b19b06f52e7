import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { runChild } from "./spawn.ts";

/** The models/ CLI steps of the loop (`python -m backbone_models.cli …`), each a child process. */

export type Kind = "embed" | "rerank";

export interface ModelsCli {
  readonly root: string;
  readonly echo: (line: string) => void;
}

const OFFLINE = { HF_HUB_OFFLINE: "1", TRANSFORMERS_OFFLINE: "1", PYTHONUNBUFFERED: "1" };

async function cli(m: ModelsCli, args: readonly string[]): Promise<string> {
  const python = path.join(m.root, ".venv", "bin", "python");
  if (!existsSync(python)) throw new Error(`${python} is missing; run bash scripts/setup.sh`);
  return runChild(python, ["-m", "backbone_models.cli", ...args], {
    cwd: path.join(m.root, "models"),
    env: OFFLINE,
    echo: m.echo,
  });
}

/** The JSON object the CLI prints last on stdout (indented, so it starts with a line "{"). */
function lastJson<T>(stdout: string, step: string): T {
  const lines = stdout.split("\n");
  const start = lines.lastIndexOf("{");
  if (start < 0) throw new Error(`${step} printed no JSON result`);
  return JSON.parse(lines.slice(start).join("\n")) as T;
}

export async function prepare(
  m: ModelsCli,
  o: { events: string; raw: string; out: string; evalPercent: number },
): Promise<Record<string, unknown> & { rows: Record<string, number> }> {
  const stdout = await cli(m, [
    "prepare",
    "--events",
    o.events,
    "--raw",
    o.raw,
    "--out",
    o.out,
    "--eval-percent",
    String(o.evalPercent),
  ]);
  return lastJson(stdout, "prepare");
}

export interface TrainOptions {
  readonly data: string;
  readonly out: string;
  readonly base: string;
  readonly steps: number;
  readonly batchSize: number;
  readonly dims?: number;
}

export async function train(m: ModelsCli, kind: Kind, o: TrainOptions): Promise<Record<string, unknown>> {
  const common = ["--data", o.data, "--out", o.out, "--base", o.base, "--max-steps", String(o.steps)];
  const args =
    kind === "embed"
      ? [
          "train-embedder",
          ...common,
          "--batch-size",
          String(o.batchSize),
          "--dims",
          String(o.dims),
          "--dim-method",
          "projection",
        ]
      : // 256 tokens per pair keeps a CPU step short; the documents' heads carry the headings.
        ["train-reranker", ...common, "--batch-size", String(o.batchSize), "--max-length", "256"];
  return lastJson(await cli(m, args), args[0] as string);
}

export async function evaluate(m: ModelsCli, kind: Kind, model: string, data: string): Promise<Record<string, number>> {
  return lastJson(await cli(m, ["evaluate", "--kind", kind, "--model", model, "--data", data]), "evaluate");
}

/** Builds the archive in `staging` and moves it into the model store under `archive`. */
export async function packageVersion(
  m: ModelsCli,
  o: { kind: Kind; model: string; name: string; version: string; staging: string; modelStore: string; archive: string },
): Promise<string> {
  mkdirSync(o.staging, { recursive: true });
  await cli(m, [
    "package",
    "--kind",
    o.kind,
    "--model",
    o.model,
    "--name",
    o.name,
    "--version",
    o.version,
    "--out",
    o.staging,
  ]);
  const target = path.join(o.modelStore, o.archive);
  renameSync(path.join(o.staging, `${o.name}.mar`), target);
  return target;
}

/**
 * The serving version's model folder, unpacked from its archive (a .mar is a zip whose root is the
 * saved model plus the handler files): the base the new version is fine-tuned from and the model the
 * evaluation compares it with. Unpacked once per archive file: its path, size and modification time,
 * since local-models rebuilds version 1 under the same name when the documents change.
 */
export async function unpackServing(m: ModelsCli, archive: string, into: string): Promise<string> {
  const done = path.join(into, ".unpacked-from");
  const { size, mtimeMs } = statSync(archive);
  const identity = `${archive}\n${size}\n${mtimeMs}`;
  if (existsSync(done) && readFileSync(done, "utf8") === identity) return into;
  rmSync(into, { recursive: true, force: true });
  mkdirSync(into, { recursive: true });
  const python = path.join(m.root, ".venv", "bin", "python");
  await runChild(python, ["-m", "zipfile", "-e", archive, into], { cwd: m.root, echo: m.echo });
  if (!existsSync(path.join(into, "MAR-INF", "MANIFEST.json"))) {
    throw new Error(`${archive} has no MAR-INF/MANIFEST.json: not a TorchServe model archive`);
  }
  writeFileSync(done, identity);
  return into;
}
