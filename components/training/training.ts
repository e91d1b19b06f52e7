import { createHash } from "node:crypto";
import * as alicloud from "@pulumi/alicloud";
import * as pulumi from "@pulumi/pulumi";
import { modelPrefix, STORAGE_PREFIXES } from "../storage/layout";
import { codeBundle } from "./code-bundle";
import {
  baseMount,
  LLM_MOUNTS,
  llmPrepareCommand,
  llmTrainingCommand,
  MOUNTS,
  type ModelRole,
  trainingCommand,
} from "./commands";
import { PaiDlcJob } from "./pai-dlc-job";

export interface TrainedModel {
  /** TorchServe model name and folder under models/, e.g. "embed". */
  readonly name: string;
  /** Version label from config; the run's version is `<label>-<run hash>`. */
  readonly version: string;
  /** The base weights, a models/ base spec (package:<distribution> or oss://<bucket>/<prefix>). */
  readonly base: string;
  readonly dims?: number;
}

export interface TrainedArtifact {
  readonly version: string;
  readonly prefix: string;
  readonly uri: pulumi.Output<string>;
}

export interface TrainingSettings {
  readonly instanceType: string;
  readonly image: string;
  readonly maxRunningMinutes: number;
  readonly wait: boolean;
  readonly waitTimeoutMinutes: number;
  readonly dataVersion: string;
  /** The base weights both models fine-tune (commands.ts DEFAULT_BASE): a models/ base spec, not a hub id. */
  readonly base: string;
}

/** The chat model's LoRA fine-tuning job (models.training.llm), a third job in the same workspace. */
export interface LlmTrainingSettings {
  /** "pai": the job trains a LoRA on `base`; "bailian": it only prepares the rows (Model Studio trains). */
  readonly trainer: "pai" | "bailian";
  /** oss://<bucket>/<prefix> of the base checkpoint (trainer "pai"). */
  readonly base?: string | undefined;
  /** The job's spec: a GPU for "pai", a CPU type for "bailian". */
  readonly instanceType: string;
  readonly name: string;
  readonly version: string;
  readonly merge: boolean;
  readonly keepUnrated: boolean;
}

export interface TrainingArgs {
  readonly cloudName: string;
  readonly region: string;
  /** The folder with the training code (the repository's models/). */
  readonly codeDir: string;
  readonly buckets: { readonly docs: pulumi.Input<string>; readonly artifacts: pulumi.Input<string> };
  /** e.g. oss-cn-hangzhou-internal.aliyuncs.com */
  readonly intranetEndpoint: pulumi.Input<string>;
  /** The training role (components/identity); the jobs' containers assume it. */
  readonly roleArn: pulumi.Input<string>;
  readonly settings: TrainingSettings;
  readonly models: Readonly<Record<ModelRole, TrainedModel>>;
  /** With its own role (components/identity llmTrainingPolicy): it reads logs/, which the other jobs may not. */
  readonly llm?: { readonly settings: LlmTrainingSettings; readonly roleArn: pulumi.Input<string> } | undefined;
  readonly tags: Record<string, string>;
}

/** Where the code goes: under models/ of the artifacts bucket, which the training role may read. */
export const codePrefix = (hash: string): string => `${STORAGE_PREFIXES.models}training-code/${hash.slice(0, 16)}/`;

/** A run's identity: what it trains on, with which code and on what. Changing any of it is a new run. */
export function runVersion(label: string, parts: Record<string, unknown>): string {
  const hash = createHash("sha256").update(JSON.stringify(parts)).digest("hex").slice(0, 10);
  return `${label}-${hash}`;
}

/** PAI workspace names: 3-23 letters, digits or "_", starting with a letter, unique per region. */
export function workspaceName(cloudName: string): string {
  const name = `${cloudName.replace(/[^A-Za-z0-9]+/g, "_")}_models`.replace(/^[^A-Za-z]+/, "");
  return name.length <= 23
    ? name
    : `${name.slice(0, 16)}_${createHash("sha256").update(name).digest("hex").slice(0, 6)}`;
}

/**
 * Fine-tuning on PAI: a workspace, datasets for the training data and the model folder, the
 * training code uploaded under its content hash, and one DLC job per model (embedder and
 * reranker). Each job writes models/<name>/<version>/ of the artifacts bucket; `artifacts` gives
 * those URIs so serving can pin what was trained.
 */
export class Training extends pulumi.ComponentResource {
  public readonly workspaceId: pulumi.Output<string>;
  public readonly codeHash: string;
  /**
   * Per role: the run's version (known before deployment), the folder it writes and its artifact URI
   * (oss://<bucket>/models/<name>/<version>/, resolved once the job has run).
   */
  public readonly artifacts: Record<ModelRole, TrainedArtifact>;
  /** The chat model's run (adapter or merged weights, its prepared data and llm-train.json), when enabled. */
  public readonly llmArtifact?: TrainedArtifact;
  /** Its job: apart from `jobs`, so the model hosts never wait for the chat model's hours of training. */
  public readonly llmJob?: PaiDlcJob;
  /** The DLC jobs; whoever serves their output waits for them. */
  public readonly jobs: PaiDlcJob[] = [];

  constructor(name: string, args: TrainingArgs, opts?: pulumi.ComponentResourceOptions) {
    super("backbone:training:Training", name, {}, opts);
    const { settings } = args;

    const bundle = codeBundle(args.codeDir);
    if (bundle.files.length === 0) {
      throw new pulumi.ResourceError(
        `training is enabled but ${path(args.codeDir)} holds no files; add the models/ code or set models.training.enabled to false`,
        this,
      );
    }
    if (!bundle.files.some((f) => f.relativePath === "backbone_models/cli.py")) {
      pulumi.log.warn(
        `training code has no backbone_models/cli.py (the jobs' entry point); the jobs will fail until models/ provides it`,
        this,
      );
    }
    this.codeHash = bundle.hash;

    const workspace = new alicloud.pai.WorkspaceWorkspace(
      `${name}-workspace`,
      {
        workspaceName: workspaceName(args.cloudName),
        displayName: `${args.cloudName} models`,
        description: `Fine-tuning of the search models of ${args.cloudName}`,
        envTypes: ["prod"],
      },
      { parent: this },
    );
    this.workspaceId = workspace.id;

    const ossUri = (bucket: pulumi.Input<string>, prefix: string) =>
      pulumi.interpolate`oss://${bucket}.${args.intranetEndpoint}/${prefix}`;
    const dataset = (key: string, bucket: pulumi.Input<string>, prefix: string, description: string) =>
      new alicloud.pai.WorkspaceDataset(
        `${name}-dataset-${key}`,
        {
          workspaceId: workspace.id,
          datasetName: `${args.cloudName}-${key}`.replace(/[^A-Za-z0-9_-]/g, "-"),
          description,
          dataSourceType: "OSS",
          dataType: "COMMON",
          property: "DIRECTORY",
          sourceType: "USER",
          accessibility: "PRIVATE",
          uri: ossUri(bucket, prefix),
        },
        { parent: this },
      );
    dataset(
      "training",
      args.buckets.docs,
      STORAGE_PREFIXES.training,
      "Training pairs built from telemetry (docs bucket, training/)",
    );
    dataset("models", args.buckets.artifacts, STORAGE_PREFIXES.models, "Model archives (artifacts bucket, models/)");

    const code = codePrefix(bundle.hash);
    const uploads = bundle.files.map(
      (file) =>
        new alicloud.oss.BucketObject(
          `${name}-code-${file.relativePath.replace(/[^A-Za-z0-9]+/g, "-")}`,
          {
            bucket: args.buckets.artifacts,
            key: `${code}${file.relativePath}`,
            source: file.absolutePath,
            acl: "private",
          },
          { parent: this },
        ),
    );

    const roles: ModelRole[] = ["embedding", "rerank"];
    const artifacts = {} as Record<ModelRole, TrainedArtifact>;
    for (const role of roles) {
      const model = args.models[role];
      const version = runVersion(model.version, {
        code: bundle.hash,
        data: settings.dataVersion,
        base: model.base,
        dims: model.dims,
        spec: settings.instanceType,
        image: settings.image,
      });
      const prefix = modelPrefix(model.name, version);
      const mount = baseMount(model.base);
      const artifactUri = pulumi.interpolate`oss://${args.buckets.artifacts}/${prefix}`;
      const job = new PaiDlcJob(
        `${name}-${role}`,
        {
          region: args.region,
          workspaceId: workspace.id,
          displayName: `${args.cloudName}-${model.name}-${version}`,
          image: settings.image.replace("{region}", args.region),
          instanceType: settings.instanceType,
          podCount: 1,
          userCommand: trainingCommand({
            role,
            name: model.name,
            version,
            base: model.base,
            dims: model.dims,
          }),
          dataSources: [
            { uri: ossUri(args.buckets.artifacts, code), mountPath: MOUNTS.code },
            { uri: ossUri(args.buckets.docs, STORAGE_PREFIXES.training), mountPath: MOUNTS.data },
            { uri: ossUri(args.buckets.artifacts, STORAGE_PREFIXES.models), mountPath: MOUNTS.artifacts },
            ...(mount ? [{ uri: ossUri(mount.bucket, mount.prefix), mountPath: MOUNTS.base }] : []),
          ],
          envs: { BACKBONE_MODEL_ROLE: role, BACKBONE_DATA_VERSION: settings.dataVersion, ...mount?.env },
          maxRunningMinutes: settings.maxRunningMinutes,
          roleArn: args.roleArn,
          codeHash: bundle.hash,
          dataVersion: settings.dataVersion,
          artifactUri,
          wait: { enabled: settings.wait, timeoutMinutes: settings.waitTimeoutMinutes, pollSeconds: 30 },
        },
        // The code must be in OSS before the job starts.
        { parent: this, dependsOn: uploads },
      );
      this.jobs.push(job);
      artifacts[role] = { version, prefix, uri: job.artifactUri };
    }
    this.artifacts = artifacts;

    if (args.llm) {
      const llm = args.llm.settings;
      const version = runVersion(llm.version, {
        code: bundle.hash,
        data: settings.dataVersion,
        trainer: llm.trainer,
        base: llm.base,
        spec: llm.instanceType,
        image: settings.image,
        merge: llm.merge,
        keepUnrated: llm.keepUnrated,
      });
      const prefix = modelPrefix(llm.name, version);
      const mount = llm.trainer === "pai" ? baseMount(String(llm.base)) : undefined;
      const userCommand =
        llm.trainer === "pai"
          ? llmTrainingCommand({ base: String(llm.base), merge: llm.merge, keepUnrated: llm.keepUnrated })
          : llmPrepareCommand({ keepUnrated: llm.keepUnrated });
      const job = new PaiDlcJob(
        `${name}-llm`,
        {
          region: args.region,
          workspaceId: workspace.id,
          displayName: `${args.cloudName}-${llm.name}-${version}`,
          image: settings.image.replace("{region}", args.region),
          instanceType: llm.instanceType,
          podCount: 1,
          userCommand,
          dataSources: [
            { uri: ossUri(args.buckets.artifacts, code), mountPath: LLM_MOUNTS.code },
            { uri: ossUri(args.buckets.docs, STORAGE_PREFIXES.raw), mountPath: LLM_MOUNTS.raw },
            { uri: ossUri(args.buckets.docs, STORAGE_PREFIXES.logs), mountPath: LLM_MOUNTS.logs },
            ...(mount ? [{ uri: ossUri(mount.bucket, mount.prefix), mountPath: LLM_MOUNTS.base }] : []),
            { uri: ossUri(args.buckets.artifacts, prefix), mountPath: LLM_MOUNTS.output },
          ],
          envs: { BACKBONE_MODEL_ROLE: "llm", BACKBONE_DATA_VERSION: settings.dataVersion, ...mount?.env },
          maxRunningMinutes: settings.maxRunningMinutes,
          roleArn: args.llm.roleArn,
          codeHash: bundle.hash,
          dataVersion: settings.dataVersion,
          artifactUri: pulumi.interpolate`oss://${args.buckets.artifacts}/${prefix}`,
          wait: { enabled: settings.wait, timeoutMinutes: settings.waitTimeoutMinutes, pollSeconds: 30 },
        },
        { parent: this, dependsOn: uploads },
      );
      this.llmJob = job;
      this.llmArtifact = { version, prefix, uri: job.artifactUri };
    }

    this.registerOutputs({
      workspaceId: this.workspaceId,
      codeHash: this.codeHash,
      artifactUris: { embedding: artifacts.embedding.uri, rerank: artifacts.rerank.uri, llm: this.llmArtifact?.uri },
    });
  }
}

const path = (dir: string) => `${dir.split(/[\\/]/).slice(-1)[0] ?? dir}/`;
