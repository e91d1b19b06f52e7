import type * as pulumi from "@pulumi/pulumi";
import { type EasServiceSpec, ModelService } from "../components/eas";
import type { Network } from "../components/network";
import type { BackboneConfig } from "./config";
import { bucketName, stackCloudName } from "./naming";
import { type StackIdentity, standardTags } from "./tags";

/** vLLM's OpenAI-compatible server listens here and answers GET /health [I: vLLM's defaults]. */
const VLLM_PORT = 8000;
const MODEL_MOUNT = "/mnt/model";

/** EAS names allow lowercase letters, digits and underscores only. */
export const easServiceName = (cloudName: string, part: string): string =>
  `${cloudName}_${part}`.replace(/[^a-z0-9_]/g, "_");

/**
 * The chat LLM's EAS spec: vLLM serving the merged fine-tuned weights from the artifacts bucket,
 * mounted read-only. Pure: tested directly. The image is a vLLM image EAS offers (a config value).
 */
export function chatServiceSpec(
  config: Pick<BackboneConfig, "namePrefix" | "region" | "eas">,
  stack: string,
  trained?: { readonly prefix: string },
): Omit<EasServiceSpec, "network"> {
  const eas = config.eas;
  if (!eas) throw new Error('eas: not set; expected an eas block because chat.backend is "eas"');
  const { llm } = eas;
  // A named prefix wins; else the merged model of this stack's own fine-tuning run (models/ train-llm --merge).
  const modelPrefix = llm.modelPrefix ?? (trained ? `${trained.prefix}model/` : undefined);
  if (!modelPrefix)
    throw new Error("eas.llm.modelPrefix: unset; expected a prefix like models/llm/v1/ or models.training.llm on");
  return {
    name: easServiceName(stackCloudName(config.namePrefix, stack), "chat"),
    workspaceId: eas.workspaceId,
    image: llm.image.replaceAll("{region}", config.region),
    command: [
      "vllm serve",
      MODEL_MOUNT,
      `--served-model-name ${llm.servedModelName}`,
      "--host 0.0.0.0",
      `--port ${VLLM_PORT}`,
    ].join(" "),
    port: VLLM_PORT,
    instanceType: llm.instanceType,
    resourceGroup: eas.resourceGroup,
    replicas: llm.replicas,
    modelPath: `oss://${bucketName(config.namePrefix, stack, "artifacts")}/${modelPrefix}`,
    mountPath: MODEL_MOUNT,
    healthCheck: { path: "/health", initialDelaySeconds: 60 },
    publicEndpoint: false,
  };
}

/** The chat model on EAS when chat.backend is "eas"; its endpoint and token go to the orchestrator. */
export function createChatService(
  config: BackboneConfig,
  id: StackIdentity,
  network: Network,
  opts: pulumi.ComponentResourceOptions,
  trained?: { readonly prefix: string; readonly job?: pulumi.Resource },
): (ModelService & { readonly model: string }) | undefined {
  if (config.chat.backend !== "eas") return undefined;
  const servesTrainedRun = config.eas?.llm.modelPrefix === undefined && trained !== undefined;
  const service = createEasService("chat-llm", chatServiceSpec(config, id.stack, trained), config, id, network, {
    ...opts,
    // The new weights exist once the fine-tuning job has finished.
    ...(servesTrainedRun && trained.job ? { dependsOn: [trained.job] } : {}),
  });
  return Object.assign(service, { model: config.eas?.llm.servedModelName ?? "" });
}

/** One EAS service on the stack's first vSwitch, in the GPU hosts' group (it admits only the VPC). */
function createEasService(
  name: string,
  spec: Omit<EasServiceSpec, "network">,
  config: BackboneConfig,
  id: StackIdentity,
  network: Network,
  opts: pulumi.ComponentResourceOptions,
): ModelService {
  return new ModelService(
    name,
    {
      region: config.region,
      spec,
      network: {
        vpcId: network.vpcId,
        vswitchId: network.vswitchIds.apply((ids) => ids[0] as string),
        securityGroupId: network.securityGroupIds.apply((groups) => groups.gpu),
      },
      wait: { timeoutMinutes: config.eas?.waitTimeoutMinutes ?? 60, pollSeconds: 15 },
      tags: standardTags(config, id),
    },
    opts,
  );
}

/** TorchServe's inference port and its health route (https://pytorch.org/serve/inference_api.html). */
const TORCHSERVE_PORT = 8080;
const MODELS_MOUNT = "/mnt/models";

/**
 * serving.backend eas: one EAS service runs TorchServe with the project's own handlers and archives
 * (models/serving, the same .mar files the gn7i hosts load), so both roles keep the model-endpoint
 * contract and one service token covers both. The image is built from models/serving (TorchServe
 * 0.12.0 and the pinned requirements) and pushed to the stack's registry by the operator: the image
 * reference is config; this stack does not build it. Pure: tested directly.
 */
export function modelsServiceSpec(
  config: Pick<BackboneConfig, "namePrefix" | "region" | "eas" | "models">,
  stack: string,
): Omit<EasServiceSpec, "network"> {
  const eas = config.eas;
  if (!eas) throw new Error('eas: not set; expected an eas block because serving.backend is "eas"');
  const archive = (role: "embedding" | "rerank") => {
    const { name, version } = config.models[role];
    return `${name}=${name}/${version}/${name}.mar`;
  };
  return {
    name: easServiceName(stackCloudName(config.namePrefix, stack), "models"),
    workspaceId: eas.workspaceId,
    image: eas.models.image.replaceAll("{region}", config.region),
    command: [
      "torchserve --foreground --disable-token-auth --ncs",
      `--model-store ${MODELS_MOUNT}`,
      `--models ${archive("embedding")} ${archive("rerank")}`,
    ].join(" "),
    port: TORCHSERVE_PORT,
    instanceType: eas.models.instanceType,
    resourceGroup: eas.resourceGroup,
    replicas: eas.models.replicas,
    // The whole models/ prefix, read-only: both archives sit under it (components/storage/layout.ts).
    modelPath: `oss://${bucketName(config.namePrefix, stack, "artifacts")}/models/`,
    mountPath: MODELS_MOUNT,
    healthCheck: { path: "/ping", initialDelaySeconds: 30 },
    publicEndpoint: false,
  };
}

/** The embed and rerank archives on EAS when serving.backend is "eas". */
export function createModelsService(
  config: BackboneConfig,
  id: StackIdentity,
  network: Network,
  opts: pulumi.ComponentResourceOptions,
): ModelService | undefined {
  if (config.serving.backend !== "eas") return undefined;
  return createEasService("models-eas", modelsServiceSpec(config, id.stack), config, id, network, opts);
}
