import * as path from "node:path";
import * as alicloud from "@pulumi/alicloud";
import * as pulumi from "@pulumi/pulumi";
import { Cluster, SEARCH_TAINT } from "../components/cluster";
import { Identity } from "../components/identity";
import type { ModelEndpoints } from "../components/model-endpoints";
import { Models, rolesServedBy } from "../components/models";
import { Network } from "../components/network";
import { type AirecEndpoint, Recommendations } from "../components/recommendations";
import { Registry } from "../components/registry";
import { Search } from "../components/search";
import { STORAGE_PREFIXES, Storage, type StoragePrefixes } from "../components/storage";
import { baseMount } from "../components/training";
import type { BackboneConfig } from "./config";
import { createChatService, createModelsService } from "./eas";
import { bucketName, stackCloudName } from "./naming";
import { createOrchestrator } from "./orchestrator";
import { relevanceProfile } from "./relevance-profile";
import { type StackIdentity, standardTags } from "./tags";

/** Where the orchestrator runs; its service account assumes the orchestrator role through RRSA. */
export const ORCHESTRATOR_WORKLOAD = { namespace: "search-backbone", serviceAccount: "orchestrator" } as const;

/** Typed stack outputs: what later components, CI and operators read. */
export interface BackboneOutputs {
  readonly environment: string;
  readonly region: string;
  readonly network: {
    readonly vpcId: pulumi.Output<string>;
    readonly vswitchIds: pulumi.Output<string[]>;
    readonly zoneIds: pulumi.Output<string[]>;
    readonly egressIp: pulumi.Output<string | undefined>;
    readonly securityGroupIds: pulumi.Output<Record<"gpu" | "cluster" | "search", string>>;
  };
  readonly storage: {
    readonly docsBucket: pulumi.Output<string>;
    readonly artifactsBucket: pulumi.Output<string>;
    readonly accessLogsBucket: pulumi.Output<string | undefined>;
    readonly intranetEndpoint: pulumi.Output<string>;
    readonly prefixes: pulumi.Output<StoragePrefixes>;
  };
  readonly roles: {
    readonly training: pulumi.Output<string>;
    readonly serving: pulumi.Output<string>;
    readonly orchestrator: pulumi.Output<string>;
  };
  /** The RAM policy document a CI deployer role needs to run `pulumi up` for this stack. */
  readonly deployerPolicy: pulumi.Output<string>;
  readonly cluster: {
    readonly clusterId: pulumi.Output<string>;
    readonly rrsaOidcProviderArn: pulumi.Output<string>;
    readonly kubeconfig: pulumi.Output<string>;
  };
  readonly registry: { readonly repositoryUrl: pulumi.Output<string> };
  readonly relevance: BackboneConfig["relevance"];
  /** How to call the embedding and the rerank model, whichever backend serves each. */
  readonly modelEndpoints: pulumi.Output<ModelEndpoints>;
  /** Secret values by the names modelEndpoints gives in `authSecret`. */
  readonly modelSecrets: pulumi.Output<Record<string, string>>;
  readonly search: {
    readonly elasticsearchUrl: pulumi.Output<string>;
    readonly opensearchUrl: pulumi.Output<string>;
    readonly indexAlias: string;
    readonly setupJobName: pulumi.Output<string>;
  };
  /** AIRec as the orchestrator calls it; undefined while recommendations.airec.mode is "off". */
  readonly recommendations: { readonly airec: pulumi.Output<AirecEndpoint | undefined> };
  /** Set when chat.backend is eas: the chat model's service and VPC base URL (its token stays in the Secret). */
  readonly chat?: { readonly serviceName: string; readonly endpoint: pulumi.Output<string> };
  /** Set when orchestrator.enabled: the image digest the pods run and the in-cluster URL. */
  readonly orchestrator?: {
    readonly imageRef: pulumi.Output<string>;
    readonly namespace: pulumi.Output<string>;
    readonly serviceUrl: pulumi.Output<string>;
  };
}

/** The models/ folder of the repository: the training code the DLC jobs run. */
export const MODELS_DIR = path.resolve(__dirname, "..", "models");

/**
 * The chat model's fine-tuning job when models.training.llm is on (rules.ts: then training is on and a
 * base is set): its settings, and what its role may read and write.
 */
export function llmTrainingOf(config: BackboneConfig) {
  const { training } = config.models;
  const { enabled, base, instanceType, ...settings } = training.llm;
  if (!enabled || !training.enabled) return undefined;
  const outputPrefix = `${STORAGE_PREFIXES.models}${settings.name}/`;
  if (config.chat.fineTune === "bailian") {
    // The job only prepares the rows, on a CPU; Model Studio trains (Models: BailianChatModel).
    return {
      settings: { ...settings, trainer: "bailian" as const, instanceType: config.chat.bailian.prepareInstanceType },
      outputPrefix,
    };
  }
  if (!base)
    throw new Error("models.training.llm.base: not set; expected oss://<bucket>/<prefix> (rules.ts checks this)");
  const mount = baseMount(base);
  if (!mount) throw new Error(`models.training.llm.base: ${base} is not oss://<bucket>/<prefix>`);
  return {
    settings: { ...settings, trainer: "pai" as const, base, instanceType },
    base: { bucket: mount.bucket, prefix: mount.prefix },
    outputPrefix,
  };
}

/** Wires the components from one validated config. Components never read Pulumi config. */
export function createBackbone(config: BackboneConfig, id: StackIdentity): BackboneOutputs {
  const tags = standardTags(config, id);
  const cloudName = stackCloudName(config.namePrefix, id.stack);
  const protect = config.environment === "prod";

  // One explicit provider per stack: the region comes from validated config, credentials from
  // the environment (ALICLOUD_ACCESS_KEY / ALICLOUD_SECRET_KEY / STS), never from inputs.
  const provider = new alicloud.Provider("alicloud", { region: config.region });
  const opts: pulumi.ComponentResourceOptions = { providers: [provider] };

  const network = new Network(
    "network",
    {
      cloudName,
      vpcCidr: config.network.vpcCidr,
      vswitches: config.network.vswitches,
      nat: config.network.nat,
      publicIngressCidrs: config.network.publicIngressCidrs,
      tags,
    },
    opts,
  );

  const storage = new Storage(
    "storage",
    {
      buckets: {
        docs: bucketName(config.namePrefix, id.stack, "docs"),
        artifacts: bucketName(config.namePrefix, id.stack, "artifacts"),
        accessLogs: bucketName(config.namePrefix, id.stack, "access-logs"),
      },
      settings: config.storage,
      protect,
      tags,
    },
    opts,
  );

  const cluster = new Cluster(
    "cluster",
    {
      cloudName,
      settings: config.cluster,
      vswitchIds: network.vswitchIds,
      securityGroupId: network.securityGroupIds.apply((groups) => groups.cluster),
      tags,
      protect,
    },
    opts,
  );

  const recommendations = createRecommendations(config, protect, opts);

  const account = alicloud.getCallerIdentityOutput({ provider });
  const identity = new Identity(
    "identity",
    {
      cloudName,
      accountId: account.accountId,
      region: config.region,
      buckets: { docs: storage.docsBucket, artifacts: storage.artifactsBucket },
      rrsa: {
        oidcProviderArn: cluster.rrsaOidcProviderArn,
        issuerUrl: cluster.rrsaIssuerUrl,
        ...ORCHESTRATOR_WORKLOAD,
      },
      ...(config.storage.kmsKeyId ? { kmsKeyId: config.storage.kmsKeyId } : {}),
      ...(recommendations ? { airecInstanceId: recommendations.instanceId } : {}),
      llmTraining: llmTrainingOf(config),
      deployer: {
        emptyBucketsOnDestroy: config.storage.forceDestroy,
        registryEdition: config.registry.edition,
        airec: config.recommendations.airec,
        training: config.models.training.enabled,
        gpuServing: config.serving.backend !== "eas" && rolesServedBy(config.relevance, "torchserve").length > 0,
        ...(config.eas && (config.chat.backend === "eas" || config.serving.backend === "eas")
          ? { eas: { workspaceId: config.eas.workspaceId } }
          : {}),
      },
      tags,
    },
    opts,
  );

  const registry = new Registry(
    "registry",
    {
      cloudName,
      settings: config.registry,
      vpcId: network.vpcId,
      vswitchId: network.vswitchIds.apply((ids) => ids[0] as string),
      tags,
      protect,
      // Only the orchestrator pushes images here.
      ...(config.orchestrator.enabled ? { push: config.orchestrator.image } : {}),
    },
    opts,
  );

  const { models: modelSettings, serving, search: searchConfig } = config;
  // serving.backend eas: the TorchServe archives on PAI-EAS instead of gn7i hosts.
  const easModels = createModelsService(config, id, network, opts);
  const models = new Models(
    "models",
    {
      cloudName,
      region: config.region,
      relevance: config.relevance,
      archives: { embedding: modelSettings.embedding, rerank: modelSettings.rerank },
      training: modelSettings.training.enabled ? modelSettings.training : undefined,
      llmTraining: llmTrainingOf(config)?.settings,
      chatFineTune: config.chat.fineTune === "bailian" ? config.chat.bailian : undefined,
      codeDir: MODELS_DIR,
      gpu: serving.gpu,
      bailian: serving.bailian,
      gateways: searchConfig.modelEndpoints,
      storage: {
        docsBucket: storage.docsBucket,
        artifactsBucket: storage.artifactsBucket,
        intranetEndpoint: storage.intranetEndpoint,
      },
      network: {
        vpcId: network.vpcId,
        vswitchIds: network.vswitchIds,
        zoneIds: network.zoneIds,
        vswitchCount: config.network.vswitches.length,
        securityGroupId: network.securityGroupIds.apply((groups) => groups.gpu),
      },
      identity: {
        trainingRoleArn: identity.roles.training,
        servingRoleName: identity.roleNames.serving,
        llmTrainingRoleArn: identity.llmTrainingRoleArn,
      },
      ...(easModels ? { eas: { endpoint: easModels.endpoint, token: easModels.token } } : {}),
      tags,
    },
    opts,
  );

  // Components that deploy into the cluster get its provider beside the Alibaba Cloud one.
  const inCluster: pulumi.ComponentResourceOptions = { providers: [provider, cluster.provider] };
  const search = new Search(
    "search",
    {
      cloudName,
      profile: relevanceProfile(config.relevance),
      modelEndpoints: models.searchEndpoints,
      modelApiKey: models.retrievalApiKey,
      indexAlias: searchConfig.indexAlias,
      elasticsearch: searchConfig.elasticsearch,
      opensearch: searchConfig.opensearch,
      ingest: searchConfig.ingest,
      network: { vpcCidr: network.vpcCidr, vswitchId: network.vswitchIds.apply((ids) => ids[0] as string) },
      // Images are mirrored into the namespace of the stack's ACR (k8s/backbone/README.md).
      imageRegistry: registry.namespaceUrl,
      oss: {
        bucket: storage.docsBucket,
        endpoint: storage.intranetEndpoint,
        region: config.region,
        prefix: "raw/",
      },
      searchPool: { nodeSelector: { workload: "search" }, tolerations: [SEARCH_TAINT] },
      tags,
      protect,
    },
    inCluster,
  );

  // chat.backend eas: the fine-tuned chat model on EAS, which the orchestrator calls instead of DashScope.
  const chatService = createChatService(config, id, network, opts, models.chatModel);

  // The registry has push settings exactly when orchestrator.enabled (above); testing enabled here as
  // well narrows the config to one that carries the DashScope key.
  const { orchestrator: orchestratorConfig } = config;
  const orchestrator =
    registry.push && orchestratorConfig.enabled
      ? createOrchestrator(
          { ...config, orchestrator: orchestratorConfig },
          {
            workload: ORCHESTRATOR_WORKLOAD,
            network,
            storage,
            cluster,
            identity,
            registry: { push: registry.push, pullRepository: registry.repositoryUrl },
            search,
            models,
            ...(chatService ? { chat: chatService } : {}),
            ...(recommendations
              ? {
                  airec: {
                    instanceId: recommendations.instanceId,
                    sceneId: recommendations.airec.apply((airec) => airec.sceneId),
                    endpoint: recommendations.endpoint,
                  },
                }
              : {}),
          },
          inCluster,
        )
      : undefined;

  return {
    environment: config.environment,
    region: config.region,
    network: {
      vpcId: network.vpcId,
      vswitchIds: network.vswitchIds,
      zoneIds: network.zoneIds,
      egressIp: network.egressIp,
      securityGroupIds: network.securityGroupIds,
    },
    storage: {
      docsBucket: storage.docsBucket,
      artifactsBucket: storage.artifactsBucket,
      accessLogsBucket: storage.accessLogsBucket,
      intranetEndpoint: storage.intranetEndpoint,
      prefixes: storage.prefixes,
    },
    roles: identity.roles,
    deployerPolicy: identity.deployerPolicy,
    cluster: {
      clusterId: cluster.clusterId,
      rrsaOidcProviderArn: cluster.rrsaOidcProviderArn,
      kubeconfig: cluster.kubeconfig,
    },
    registry: { repositoryUrl: registry.repositoryUrl },
    relevance: config.relevance,
    modelEndpoints: models.endpoints,
    modelSecrets: models.secrets,
    search: {
      elasticsearchUrl: search.elasticsearchUrl,
      opensearchUrl: search.opensearchUrl,
      indexAlias: search.indexAlias,
      setupJobName: search.setupJobName,
    },
    recommendations: { airec: recommendations ? recommendations.airec : pulumi.output(undefined) },
    ...(chatService ? { chat: { serviceName: chatService.serviceName, endpoint: chatService.endpoint } } : {}),
    ...(orchestrator
      ? {
          orchestrator: {
            imageRef: orchestrator.imageRef,
            namespace: orchestrator.namespace,
            serviceUrl: orchestrator.serviceUrl,
          },
        }
      : {}),
  };
}

/** AIRec when configured (adopted or bought; config rules keep ephemeral stacks off). */
function createRecommendations(config: BackboneConfig, protect: boolean, opts: pulumi.ComponentResourceOptions) {
  const { mode, instanceId, purchase, scenes } = config.recommendations.airec;
  if (mode === "off") return undefined;
  // The component uses the instance id only to adopt and the purchase only to buy.
  const settings = { mode, instanceId, purchase, scenes };
  return new Recommendations("recommendations", { region: config.region, settings, protect }, opts);
}
