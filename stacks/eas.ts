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
): Omit<EasServiceSpec, "network"> {
  const eas = config.eas;
  if (!eas) throw new Error('eas: not set; expected an eas block because chat.backend is "eas"');
  const { llm } = eas;
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
    modelPath: `oss://${bucketName(config.namePrefix, stack, "artifacts")}/${llm.modelPrefix}`,
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
): (ModelService & { readonly model: string }) | undefined {
  if (config.chat.backend !== "eas") return undefined;
  const spec = chatServiceSpec(config, id.stack);
  const service = new ModelService(
    "chat-llm",
    {
      region: config.region,
      spec,
      network: {
        vpcId: network.vpcId,
        vswitchId: network.vswitchIds.apply((ids) => ids[0] as string),
        // The GPU hosts' group: it admits only the VPC (components/network/rules.ts).
        securityGroupId: network.securityGroupIds.apply((groups) => groups.gpu),
      },
      wait: { timeoutMinutes: config.eas?.waitTimeoutMinutes ?? 60, pollSeconds: 15 },
      tags: standardTags(config, id),
    },
    opts,
  );
  return Object.assign(service, { model: config.eas?.llm.servedModelName ?? "" });
}
