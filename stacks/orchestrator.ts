import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { Cluster } from "../components/cluster";
import type { Identity } from "../components/identity";
import type { Models } from "../components/models";
import type { Network } from "../components/network";
import { Orchestrator, orchestratorBuildContext } from "../components/orchestrator";
import type { RegistryPush } from "../components/registry";
import type { Search } from "../components/search";
import { STORAGE_PREFIXES, type Storage } from "../components/storage";
import type { BackboneConfig, OrchestratorConfig } from "./config";
import { relevanceProfile } from "./relevance-profile";

/** The project folder: the orchestrator image builds from its k8s/ (k8s/orchestrator/Dockerfile). */
export const PROJECT_DIR = path.resolve(__dirname, "..");

export interface OrchestratorDeps {
  readonly workload: { readonly namespace: string; readonly serviceAccount: string };
  readonly network: Network;
  readonly storage: Storage;
  readonly cluster: Cluster;
  readonly identity: Identity;
  /** Where the image is pushed (host, repository, credentials) and the repository the nodes pull from. */
  readonly registry: { readonly push: RegistryPush; readonly pullRepository: pulumi.Input<string> };
  readonly search: Search;
  readonly models: Models;
  readonly airec?: ConstructorParameters<typeof Orchestrator>[1]["airec"];
  /** chat.backend eas: the chat model's EAS service (VPC address, token) and served model name. */
  readonly chat?: {
    readonly endpoint: pulumi.Output<string>;
    readonly token: pulumi.Output<string>;
    readonly model: string;
  };
}

/** The stack's config with the orchestrator enabled (so its DashScope key is there). */
export type EnabledOrchestratorConfig = BackboneConfig & {
  readonly orchestrator: Extract<OrchestratorConfig, { enabled: true }>;
};

/** The orchestrator wired to the stack's components; `opts` carries the Alibaba Cloud and cluster providers. */
export function createOrchestrator(
  config: EnabledOrchestratorConfig,
  deps: OrchestratorDeps,
  opts: pulumi.ComponentResourceOptions,
): Orchestrator {
  const { orchestrator: settings, relevance } = config;
  const { push, pullRepository } = deps.registry;
  const search = deps.search;
  return new Orchestrator(
    "orchestrator",
    {
      namespace: deps.workload.namespace,
      serviceAccountName: deps.workload.serviceAccount,
      roleName: deps.identity.roleNames.orchestrator,
      image: {
        ...orchestratorBuildContext(PROJECT_DIR),
        pushRepository: push.repositoryUrl,
        pullRepository,
        registry: { server: push.server, username: push.username, password: push.password },
      },
      profile: relevanceProfile(relevance),
      // The endpoints the search jobs embedded the documents with, so queries match them.
      modelEndpoints: deps.models.retrievalEndpoints,
      modelApiKey: deps.models.retrievalApiKey,
      search: {
        indexAlias: search.indexAlias,
        elasticsearch: { url: search.elasticsearchUrl, ...search.clientCredentials.elasticsearch },
        opensearch: { url: search.opensearchUrl, ...search.clientCredentials.opensearch },
      },
      oss: { bucket: deps.storage.docsBucket, region: config.region, endpoint: deps.storage.intranetEndpoint },
      prefixes: EVENT_PREFIXES,
      dashscopeApiKey: pulumi.secret(settings.dashscopeApiKey),
      apiKeys: pulumi.secret(settings.apiKeys),
      ...(deps.airec ? { airec: deps.airec } : {}),
      // chat.fineTune bailian: DashScope answers with the stack's own fine-tuned deployment.
      ...(deps.models.chatModel?.deployedModel ? { chatModel: deps.models.chatModel.deployedModel } : {}),
      // vLLM's OpenAI-compatible routes sit under /v1 of the service's address.
      ...(deps.chat
        ? {
            easChat: {
              baseUrl: deps.chat.endpoint.apply((url) => `${url}/v1`),
              model: deps.chat.model,
              token: deps.chat.token,
            },
          }
        : {}),
      settings: componentSettings(settings),
      vswitchIds: deps.network.vswitchIds,
      after: [search.setupJob, ...deps.models.ready],
    },
    opts,
  );
}

/** Under logs/: the orchestrator's RAM policy lets it write nowhere else in the docs bucket. */
export const EVENT_PREFIXES = {
  raw: STORAGE_PREFIXES.raw,
  events: `${STORAGE_PREFIXES.logs}events/`,
  recs: `${STORAGE_PREFIXES.logs}recs-events/`,
  chat: `${STORAGE_PREFIXES.logs}chat/`,
} as const;

/** The component's settings from the stack's validated orchestrator config. */
export function componentSettings(settings: EnabledOrchestratorConfig["orchestrator"]) {
  return {
    replicas: settings.replicas,
    resources: settings.resources,
    targetCpuUtilization: settings.targetCpuUtilization,
    chatModel: settings.chatModel,
    dashscopeBaseUrl: settings.dashscopeBaseUrl,
    rateLimitPerMinute: settings.rateLimitPerMinute,
    logLevel: settings.logLevel,
    shutdownGraceMs: settings.shutdownGraceMs,
    upstreamIdleTimeoutMs: settings.upstreamIdleTimeoutMs,
    dependencyLimits: settings.dependencyLimits,
    ingress: settings.ingress,
    jwt: settings.jwt,
    chatLog: settings.chatLog,
  };
}
