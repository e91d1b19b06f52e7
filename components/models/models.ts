import { readFileSync } from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { BailianChatModel, BailianModels, type BailianModelsArgs } from "../bailian";
import { attributed } from "../errors";
import {
  bailianEndpoint,
  DASHSCOPE_AUTH_SECRET,
  EAS_MODELS_AUTH_SECRET,
  easTorchserveEndpoint,
  type ModelEndpoint,
  type ModelEndpoints,
  type ModelRole,
  torchserveEndpoint,
} from "../model-endpoints";
import { type GpuSettings, Serving, type ServingArgs } from "../serving";
import { modelPrefix } from "../storage";
import { CHAT_DATA_FOLDER, type LlmTrainingSettings, Training, type TrainingSettings } from "../training";
import { GATEWAY_KEY, type Gateways, retrievalEndpoints, searchEndpoints } from "./endpoints";
import { servingPackages } from "./packages";

export type ModelBackend = "torchserve" | "bailian";

/** A role as the relevance profile names it: who serves it and which model. */
export interface ModelChoice {
  readonly endpoint: ModelBackend;
  /** On TorchServe the base model the role is fine-tuned from; on Bailian the model id called. */
  readonly model: string;
}

export interface ModelsArgs {
  /** Prefix of every cloud name, e.g. "acme-dev". */
  readonly cloudName: string;
  readonly region: string;
  readonly relevance: { readonly embedding: ModelChoice & { readonly dims: number }; readonly rerank: ModelChoice };
  /** Per role, the TorchServe model name and version label: models/<name>/<version>/<name>.mar. */
  readonly archives: Readonly<Record<ModelRole, { readonly name: string; readonly version: string }>>;
  /** Fine-tuning on PAI; unset: the hosts serve the configured version of an earlier run. */
  readonly training?: TrainingSettings | undefined;
  /** The chat model's fine-tuning job (needs `training` and identity.llmTrainingRoleArn). */
  readonly llmTraining?: LlmTrainingSettings | undefined;
  /** With llmTraining.trainer "bailian": what Model Studio fine-tunes and how the result is deployed. */
  readonly chatFineTune?:
    | {
        readonly model: string;
        readonly trainingType: "efficient_sft" | "sft";
        readonly nEpochs: number;
        readonly capacity: number;
      }
    | undefined;
  /** The repository's models/ folder: the training code, and requirements.txt (the hosts' pins). */
  readonly codeDir: string;
  readonly gpu: GpuSettings;
  readonly bailian: {
    readonly baseUrl: string;
    /** The DashScope key the Bailian endpoints take; it leaves the component only as the secret output. */
    readonly apiKey?: pulumi.Input<string> | undefined;
    readonly deployments: BailianModelsArgs["deployments"];
  };
  /** Contract gateways the search jobs and the orchestrator call instead of a role's own endpoint. */
  readonly gateways: Gateways;
  readonly storage: {
    readonly docsBucket: pulumi.Input<string>;
    readonly artifactsBucket: pulumi.Input<string>;
    readonly intranetEndpoint: pulumi.Input<string>;
  };
  readonly network: Pick<ServingArgs, "vpcId" | "vswitchIds" | "zoneIds" | "vswitchCount" | "securityGroupId">;
  /** The training role's ARN (the DLC jobs assume it) and the serving role's name (the hosts run as it). */
  readonly identity: {
    readonly trainingRoleArn: pulumi.Input<string>;
    readonly servingRoleName: pulumi.Input<string>;
    /** The chat model's job's own role (reads logs/); set with llmTraining. */
    readonly llmTrainingRoleArn?: pulumi.Input<string> | undefined;
  };
  readonly tags: Record<string, string>;
  /**
   * serving.backend eas: the TorchServe roles are served by this EAS service (stacks/eas.ts) instead
   * of gn7i hosts: its VPC address and token.
   */
  readonly eas?: { readonly endpoint: pulumi.Output<string>; readonly token: pulumi.Output<string> } | undefined;
}

const ROLES: readonly ModelRole[] = ["embedding", "rerank"];

/** The roles a backend serves, in a fixed order. Pure: the stack also sizes the deployer's policy by it. */
export const rolesServedBy = (relevance: ModelsArgs["relevance"], backend: ModelBackend): ModelRole[] =>
  ROLES.filter((role) => relevance[role].endpoint === backend);

/**
 * What a set of arguments cannot serve, each naming the field, the value and what was expected.
 * The stack's config rules report the same cases first, by the stack's keys. Pure: tested directly.
 */
export function modelsArgsProblems(args: Pick<ModelsArgs, "relevance" | "bailian" | "gateways">): string[] {
  const onBailian = rolesServedBy(args.relevance, "bailian");
  const problems: string[] = [];
  for (const role of ROLES) {
    if (args.bailian.deployments[role] && !onBailian.includes(role)) {
      problems.push(
        `bailian.deployments.${role}: given a deployment of ${args.bailian.deployments[role]?.modelName}, but relevance.${role}.endpoint is "${args.relevance[role].endpoint}"; expected one only for a role Bailian serves`,
      );
    }
  }
  if (onBailian.length > 0 && !isDashscopeBaseUrl(args.bailian.baseUrl)) {
    problems.push(
      `bailian.baseUrl: given "${args.bailian.baseUrl}"; expected the DashScope base URL https://host with no path`,
    );
  }
  if (onBailian.length > 0 && args.bailian.apiKey === undefined) {
    problems.push(
      `bailian.apiKey: not set; expected a DashScope API key because relevance.${onBailian.join(" and relevance.")} use Bailian`,
    );
  }
  for (const role of onBailian) {
    if (!args.gateways[GATEWAY_KEY[role]]) {
      problems.push(
        `gateways.${GATEWAY_KEY[role]}: not set, and relevance.${role} is served by Bailian (DashScope's native API, which the search jobs do not speak); expected the URL of a gateway that speaks the model-endpoint contract`,
      );
    }
  }
  return problems;
}

/** Whether bailianEndpoint accepts the URL (it throws on anything but https://host). */
function isDashscopeBaseUrl(baseUrl: string): boolean {
  try {
    bailianEndpoint(baseUrl, "embedding", "any");
    return true;
  } catch {
    return false;
  }
}

/**
 * The embedding and rerank models, wherever the relevance profile puts them: fine-tuning on PAI
 * (when training is set), TorchServe hosts behind an internal NLB (for the roles on TorchServe) and
 * Bailian deployments of fine-tuned models (for the roles on Bailian that name one). It joins them into
 * one `ModelEndpoints`, and gives the endpoints the search jobs and the orchestrator call (a role's
 * contract gateway where configured) in both the orchestrator's and the search component's shape.
 */
export class Models extends pulumi.ComponentResource {
  /** How to call each role's model as served (the stack output `modelEndpoints`). */
  public readonly endpoints: pulumi.Output<ModelEndpoints>;
  /** Secret values by the names `endpoints` give in `authSecret`. */
  public readonly secrets: pulumi.Output<Record<string, string>>;
  /** What the search jobs and the orchestrator call: `endpoints`, or a role's contract gateway. */
  public readonly retrievalEndpoints: pulumi.Output<ModelEndpoints>;
  /** The bearer token `retrievalEndpoints` take, when one names an `authSecret`; secret. */
  public readonly retrievalApiKey: pulumi.Output<string | undefined>;
  /** `retrievalEndpoints` in the search component's shape, naming the profile's models. */
  public readonly searchEndpoints: pulumi.Output<ModelEndpoints>;
  /**
   * Readiness: the resources whose creation means the models answer, for consumers' `dependsOn`.
   * The TorchServe hosts and their NLB (which may still be loading a model), the Bailian deployments
   * (awaited until running).
   */
  public readonly ready: readonly pulumi.Resource[];
  /** The fine-tuned chat model's run (models/<name>/<version>/ of artifacts), when models.training.llm is on. */
  public readonly chatModel?: {
    readonly version: string;
    readonly prefix: string;
    readonly uri: pulumi.Output<string>;
    /** On the Model Studio path: the deployed model's name, what the orchestrator passes as `model`. */
    readonly deployedModel?: pulumi.Output<string>;
    /** The DLC job that writes the run; done when the job has finished (with models.training.wait). */
    readonly job?: pulumi.Resource;
  };

  constructor(name: string, args: ModelsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("backbone:models:Models", name, {}, opts);
    // Bad arguments surface here, before any child is registered.
    attributed(this, () => {
      const problems = modelsArgsProblems(args);
      if (problems.length > 0) throw new Error(problems.join("; "));
    });
    const { relevance, archives } = args;
    const onTorchServe = rolesServedBy(relevance, "torchserve");
    const dims = (role: ModelRole) => (role === "embedding" ? relevance.embedding.dims : undefined);
    // The children were top-level resources of the stack before this component existed: the aliases
    // keep their URNs, so existing stacks adopt them instead of replacing hosts and re-running jobs.
    const child = (childName: string): pulumi.ComponentResourceOptions => ({
      parent: this,
      aliases: [{ name: childName, parent: pulumi.rootStackResource }],
    });

    const training = args.training
      ? new Training(
          `${name}-training`,
          {
            cloudName: args.cloudName,
            region: args.region,
            codeDir: args.codeDir,
            buckets: { docs: args.storage.docsBucket, artifacts: args.storage.artifactsBucket },
            intranetEndpoint: args.storage.intranetEndpoint,
            roleArn: args.identity.trainingRoleArn,
            settings: args.training,
            models: {
              // Both fine-tune the configured base weights (a package or OSS folder, never a hub id): the
              // reranker is the same encoder with a fresh head (models/backbone_models/reranker.py).
              embedding: { ...archives.embedding, base: args.training.base, dims: relevance.embedding.dims },
              rerank: { ...archives.rerank, base: args.training.base },
            },
            llm:
              args.llmTraining && args.identity.llmTrainingRoleArn
                ? { settings: args.llmTraining, roleArn: args.identity.llmTrainingRoleArn }
                : undefined,
            tags: args.tags,
          },
          child("training"),
        )
      : undefined;

    const llmRun = training?.llmArtifact;
    if (llmRun && args.llmTraining?.trainer === "bailian" && args.chatFineTune) {
      const { model, trainingType, nEpochs, capacity } = args.chatFineTune;
      const data = `${llmRun.prefix}${CHAT_DATA_FOLDER}sft/`;
      const chatModel = new BailianChatModel(
        `${name}-chat`,
        {
          baseUrl: args.bailian.baseUrl,
          model,
          trainingType,
          nEpochs,
          suffix: llmRun.version
            .toLowerCase()
            .replace(/[^a-z0-9-]/g, "-")
            .slice(0, 32),
          data: pulumi.output(args.storage.artifactsBucket).apply((bucket) => ({
            bucket,
            region: `oss-${args.region}`,
            trainKey: `${data}train.jsonl`,
            validKey: `${data}valid.jsonl`,
          })),
          capacity,
          wait: { fineTuneMinutes: args.training?.waitTimeoutMinutes ?? 480, deploymentMinutes: 30 },
        },
        // Model Studio reads what the DLC job wrote: the job's resource completes when the job has.
        { parent: this, dependsOn: training?.llmJob ? [training.llmJob] : [] },
      );
      this.chatModel = { ...llmRun, deployedModel: chatModel.deployedModel };
    } else if (llmRun) this.chatModel = { ...llmRun, ...(training?.llmJob ? { job: training.llmJob } : {}) };

    // Trained runs pin their own version; otherwise the configured version of an earlier run is served.
    const servedKey = (role: ModelRole) => {
      const { name: model, version } = archives[role];
      const prefix = training ? training.artifacts[role].prefix : attributed(this, () => modelPrefix(model, version));
      return { name: model, key: `${prefix}${model}.mar` };
    };
    const torchserve =
      onTorchServe.length > 0 && !args.eas
        ? new Serving(
            `${name}-serving`,
            {
              cloudName: args.cloudName,
              region: args.region,
              gpu: args.gpu,
              ...args.network,
              roleName: args.identity.servingRoleName,
              artifactsBucket: args.storage.artifactsBucket,
              ossEndpoint: args.storage.intranetEndpoint,
              models: onTorchServe.map(servedKey),
              pipPackages: attributed(this, () =>
                servingPackages(readFileSync(path.join(args.codeDir, "requirements.txt"), "utf8")),
              ),
              after: training ? training.jobs : [],
              tags: args.tags,
            },
            child("serving"),
          )
        : undefined;

    const bailian = ROLES.some((role) => args.bailian.deployments[role])
      ? new BailianModels(
          `${name}-bailian`,
          { baseUrl: args.bailian.baseUrl, deployments: args.bailian.deployments },
          child("bailian"),
        )
      : undefined;

    const endpoint = (role: ModelRole): pulumi.Output<ModelEndpoint> => {
      if (args.eas && relevance[role].endpoint === "torchserve") {
        return args.eas.endpoint.apply((url) =>
          attributed(this, () => easTorchserveEndpoint(url, role, archives[role].name, dims(role))),
        );
      }
      if (torchserve && relevance[role].endpoint === "torchserve") {
        return torchserve.baseUrl.apply((url) =>
          attributed(this, () => torchserveEndpoint(url, role, archives[role].name, dims(role))),
        );
      }
      const deployed = bailian?.deployedModels[role];
      return (deployed ?? pulumi.output(relevance[role].model)).apply((model) =>
        attributed(this, () => bailianEndpoint(args.bailian.baseUrl, role, model, dims(role))),
      );
    };
    this.endpoints = pulumi
      .all([endpoint("embedding"), endpoint("rerank")])
      .apply(([embedding, rerank]) => ({ embedding, rerank }));
    const apiKey = args.bailian.apiKey;
    this.secrets = pulumi.secret(
      pulumi.all([apiKey, args.eas?.token]).apply(
        ([key, easToken]): Record<string, string> => ({
          ...(key === undefined ? {} : { [DASHSCOPE_AUTH_SECRET]: key }),
          ...(easToken === undefined ? {} : { [EAS_MODELS_AUTH_SECRET]: easToken }),
        }),
      ),
    );
    this.retrievalEndpoints = this.endpoints.apply((endpoints) =>
      attributed(this, () => retrievalEndpoints(endpoints, args.gateways)),
    );
    this.retrievalApiKey = pulumi.secret(
      pulumi.all([this.retrievalEndpoints, this.secrets]).apply(([endpoints, secrets]) => {
        // One bearer key for both roles (MODEL_API_KEY): the secret the retrieval endpoints name.
        const named = [...new Set(ROLES.map((role) => endpoints[role].authSecret).filter((s) => s !== null))];
        if (named.length > 1)
          throw new pulumi.ResourceError(
            `retrieval endpoints need different keys (${named.join(", ")}); expected one key for both roles`,
            this,
          );
        return named[0] === undefined ? undefined : secrets[named[0]];
      }),
    );
    this.searchEndpoints = this.retrievalEndpoints.apply((endpoints) => searchEndpoints(endpoints, relevance));
    this.ready = [torchserve, bailian].filter((r): r is NonNullable<typeof r> => r !== undefined);

    this.registerOutputs({
      endpoints: this.endpoints,
      secrets: this.secrets,
      retrievalEndpoints: this.retrievalEndpoints,
      searchEndpoints: this.searchEndpoints,
    });
  }
}
