import { readFileSync } from "node:fs";
import * as path from "node:path";
import * as alicloud from "@pulumi/alicloud";
import * as pulumi from "@pulumi/pulumi";
import { BailianModels } from "../components/bailian";
import { Cluster, SEARCH_TAINT } from "../components/cluster";
import { Identity } from "../components/identity";
import {
  bailianEndpoint,
  DASHSCOPE_AUTH_SECRET,
  type ModelEndpoint,
  type ModelEndpoints,
  type ModelRole,
  torchserveEndpoint,
} from "../components/model-endpoints";
import { Network } from "../components/network";
import { type AirecEndpoint, Recommendations } from "../components/recommendations";
import { Registry } from "../components/registry";
import { Search } from "../components/search";
import { Serving } from "../components/serving";
import { modelPrefix, Storage, type StoragePrefixes } from "../components/storage";
import { Training } from "../components/training";
import type { BackboneConfig } from "./config";
import { bucketName, stackCloudName } from "./naming";
import { createOrchestrator } from "./orchestrator";
import { relevanceProfile } from "./relevance-profile";
import { retrievalEndpoints, searchEndpoints } from "./search-endpoints";
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
  /** Set when orchestrator.enabled: the image digest the pods run and the in-cluster URL. */
  readonly orchestrator?: {
    readonly imageRef: pulumi.Output<string>;
    readonly namespace: pulumi.Output<string>;
    readonly serviceUrl: pulumi.Output<string>;
  };
}

/** The models/ folder of the repository: the training code the DLC jobs run. */
export const MODELS_DIR = path.resolve(__dirname, "..", "models");

/** What the TorchServe handlers import on the serving hosts besides TorchServe itself. */
const HANDLER_IMPORTS = ["torch", "transformers", "sentence-transformers", "tokenizers"] as const;

/**
 * The serving hosts' pip pins, taken from models/requirements.txt so hosts run exactly the versions
 * the handlers were tested with. Pure: tested directly.
 */
export function servingPackages(requirements: string): string[] {
  const pins = new Map(
    requirements
      .split("\n")
      .map((line) => line.replace(/#.*/, "").trim())
      .map((line) => line.split("==") as [string, string?])
      .filter((pair): pair is [string, string] => pair.length === 2 && pair[1] !== undefined),
  );
  return HANDLER_IMPORTS.map((name) => {
    const version = pins.get(name);
    if (!version) throw new Error(`models/requirements.txt does not pin ${name}==<version>`);
    return `${name}==${version}`;
  });
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
      deployer: {
        emptyBucketsOnDestroy: config.storage.forceDestroy,
        registryEdition: config.registry.edition,
        airec: airecDeployerInput(config.recommendations.airec),
        training: config.models.training.enabled,
        gpuServing: torchserveRoles(config).length > 0,
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
    },
    opts,
  );

  const models = createModels(config, { cloudName, tags, network, storage, identity }, opts);

  const { relevance, search: searchConfig } = config;
  const retrieval = models.endpoints.apply((endpoints) => retrievalEndpoints(endpoints, searchConfig.modelEndpoints));
  const search = new Search(
    "search",
    {
      cloudName,
      profile: relevanceProfile(relevance),
      modelEndpoints: retrieval.apply((endpoints) => searchEndpoints(endpoints, relevance)),
      indexAlias: searchConfig.indexAlias,
      elasticsearch: searchConfig.elasticsearch,
      opensearch: searchConfig.opensearch,
      ingest: searchConfig.ingest,
      network: { vpcCidr: network.vpcCidr, vswitchId: network.vswitchIds.apply((ids) => ids[0] as string) },
      // Images are mirrored into the namespace of the stack's ACR (k8s/backbone/README.md).
      imageRegistry: registry.repositoryUrl.apply((url) => url.slice(0, url.lastIndexOf("/"))),
      oss: {
        bucket: storage.docsBucket,
        endpoint: storage.intranetEndpoint,
        region: config.region,
        prefix: "raw/",
      },
      searchPool: { nodeSelector: { workload: "search" }, tolerations: [SEARCH_TAINT] },
      kubernetes: cluster.provider,
      tags,
      protect,
    },
    opts,
  );

  const orchestrator = config.orchestrator.enabled
    ? createOrchestrator(
        config,
        {
          workload: ORCHESTRATOR_WORKLOAD,
          network,
          storage,
          cluster,
          identity,
          registry,
          search,
          // The endpoints the search jobs embedded the documents with, so queries match them.
          models: { ...models, endpoints: retrieval },
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
        provider,
        opts,
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

type AirecConfig = BackboneConfig["recommendations"]["airec"];

/** AIRec when configured (adopted or bought; config rules keep ephemeral stacks off). */
function createRecommendations(config: BackboneConfig, protect: boolean, opts: pulumi.ComponentResourceOptions) {
  const { mode, instanceId, purchase, scenes } = config.recommendations.airec;
  if (mode === "off") return undefined;
  const settings = mode === "adopt" ? { mode, instanceId, scenes } : { mode, purchase, scenes };
  return new Recommendations("recommendations", { region: config.region, settings, protect }, opts);
}

function airecDeployerInput({ mode, instanceId }: AirecConfig): { instanceId?: string; create?: boolean } {
  if (mode === "create") return { create: true };
  return mode === "adopt" && instanceId ? { instanceId } : {};
}

/** The roles the stack serves on its own TorchServe hosts: none when serving.backend is "bailian". */
export function torchserveRoles(config: BackboneConfig): ModelRole[] {
  if (config.serving.backend === "bailian") return [];
  return (["embedding", "rerank"] as const).filter((role) => config.relevance[role].endpoint === "torchserve");
}

interface ModelDeps {
  readonly cloudName: string;
  readonly tags: Record<string, string>;
  readonly network: Network;
  readonly storage: Storage;
  readonly identity: Identity;
}

/**
 * Training on PAI (when enabled), TorchServe hosts (when a model is served there) and Bailian
 * deployments (when a fine-tuned Bailian model is configured), joined into one `modelEndpoints`.
 */
function createModels(config: BackboneConfig, deps: ModelDeps, opts: pulumi.ComponentResourceOptions) {
  const { relevance, serving, models } = config;
  const roles: ModelRole[] = ["embedding", "rerank"];
  const onTorchServe = torchserveRoles(config);
  const bases = { embedding: relevance.embedding.model, rerank: relevance.rerank.model };

  const training = models.training.enabled
    ? new Training(
        "training",
        {
          cloudName: deps.cloudName,
          region: config.region,
          codeDir: MODELS_DIR,
          buckets: { docs: deps.storage.docsBucket, artifacts: deps.storage.artifactsBucket },
          intranetEndpoint: deps.storage.intranetEndpoint,
          roleArn: deps.identity.roles.training,
          settings: models.training,
          models: {
            embedding: { ...models.embedding, baseModel: bases.embedding, dims: relevance.embedding.dims },
            rerank: { ...models.rerank, baseModel: bases.rerank },
          },
          tags: deps.tags,
        },
        opts,
      )
    : undefined;

  // Trained runs pin their own version; otherwise the configured version of an earlier run is served.
  const servedKey = (role: ModelRole) => {
    const { name } = models[role];
    const prefix = training ? training.artifacts[role].prefix : modelPrefix(name, models[role].version);
    return { name, key: `${prefix}${name}.mar` };
  };
  const torchserve =
    onTorchServe.length > 0
      ? new Serving(
          "serving",
          {
            cloudName: deps.cloudName,
            region: config.region,
            gpu: serving.gpu,
            vpcId: deps.network.vpcId,
            vswitchIds: deps.network.vswitchIds,
            zoneIds: deps.network.zoneIds,
            vswitchCount: config.network.vswitches.length,
            securityGroupId: deps.network.securityGroupIds.apply((groups) => groups.gpu),
            roleName: deps.identity.roleNames.serving,
            artifactsBucket: deps.storage.artifactsBucket,
            ossEndpoint: deps.storage.intranetEndpoint,
            models: onTorchServe.map(servedKey),
            pipPackages: servingPackages(readFileSync(path.join(MODELS_DIR, "requirements.txt"), "utf8")),
            after: training ? training.jobs : [],
            tags: deps.tags,
          },
          opts,
        )
      : undefined;

  const bailianDeployments = Object.fromEntries(
    roles.flatMap((role) => {
      const deployment = serving.bailian.deployments[role];
      return deployment && relevance[role].endpoint === "bailian" ? [[role, deployment]] : [];
    }),
  );
  const bailian =
    Object.keys(bailianDeployments).length > 0
      ? new BailianModels("bailian", { baseUrl: serving.bailian.baseUrl, deployments: bailianDeployments }, opts)
      : undefined;

  const endpoint = (role: ModelRole): pulumi.Output<ModelEndpoint> => {
    const dims = role === "embedding" ? relevance.embedding.dims : undefined;
    if (relevance[role].endpoint === "torchserve") {
      if (!torchserve) throw new pulumi.RunError(`relevance.${role} is served by TorchServe, but no hosts exist`);
      return torchserve.baseUrl.apply((url) => torchserveEndpoint(url, role, models[role].name, dims));
    }
    const deployed = bailian?.deployedModels[role];
    return (deployed ?? pulumi.output(relevance[role].model)).apply((model) =>
      bailianEndpoint(serving.bailian.baseUrl, role, model, dims),
    );
  };
  const endpoints: pulumi.Output<ModelEndpoints> = pulumi
    .all([endpoint("embedding"), endpoint("rerank")])
    .apply(([embedding, rerank]) => ({ embedding, rerank }));
  const secrets = pulumi.secret(
    serving.bailian.apiKey ? { [DASHSCOPE_AUTH_SECRET]: serving.bailian.apiKey } : ({} as Record<string, string>),
  );
  // What signals the models are up: the TorchServe hosts and NLB, the Bailian deployments (awaited).
  const ready = [torchserve, bailian].filter((r): r is NonNullable<typeof r> => r !== undefined);
  return { endpoints, secrets, ready };
}
