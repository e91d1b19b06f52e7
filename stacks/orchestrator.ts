import * as path from "node:path";
import * as alicloud from "@pulumi/alicloud";
import * as pulumi from "@pulumi/pulumi";
import type { Cluster } from "../components/cluster";
import type { Identity } from "../components/identity";
import { DASHSCOPE_AUTH_SECRET, type ModelEndpoints } from "../components/model-endpoints";
import type { Network } from "../components/network";
import { Orchestrator, orchestratorBuildContext } from "../components/orchestrator";
import type { Registry } from "../components/registry";
import type { Search } from "../components/search";
import { STORAGE_PREFIXES, type Storage } from "../components/storage";
import type { BackboneConfig } from "./config";
import { relevanceProfile } from "./relevance-profile";

/** The project folder: the orchestrator image builds from its k8s/ (k8s/orchestrator/Dockerfile). */
export const PROJECT_DIR = path.resolve(__dirname, "..");

export interface OrchestratorDeps {
  readonly workload: { readonly namespace: string; readonly serviceAccount: string };
  readonly network: Network;
  readonly storage: Storage;
  readonly cluster: Cluster;
  readonly identity: Identity;
  readonly registry: Registry;
  readonly search: Search;
  readonly models: {
    readonly endpoints: pulumi.Output<ModelEndpoints>;
    readonly secrets: pulumi.Output<Record<string, string>>;
    /** The model-serving resources the service must not start before. */
    readonly ready: pulumi.Resource[];
  };
  readonly airec?: ConstructorParameters<typeof Orchestrator>[1]["airec"];
}

/**
 * Push credentials: the configured ones (the personal edition's fixed password), else on Enterprise
 * a temporary token (GetAuthorizationToken, valid one hour, read afresh on each run:
 * https://www.alibabacloud.com/help/en/doc-detail/145324.htm).
 */
function pushCredentials(config: BackboneConfig, registry: Registry, provider: pulumi.ProviderResource) {
  const { username, password } = config.orchestrator.image;
  if (username && password) return { username: pulumi.output(username), password: pulumi.secret(password) };
  const instance = alicloud.cs
    .getRegistryEnterpriseInstancesOutput(
      { ids: registry.instanceId.apply((id) => (id ? [id] : [])), enableDetails: true },
      { provider },
    )
    .instances.apply((instances) => {
      const found = instances[0];
      if (!found) throw new pulumi.RunError("registry: the Enterprise instance reported no authorization token");
      return found;
    });
  return { username: instance.tempUsername, password: pulumi.secret(instance.authorizationToken) };
}

export function createOrchestrator(
  config: BackboneConfig,
  deps: OrchestratorDeps,
  provider: pulumi.ProviderResource,
  opts: pulumi.ComponentResourceOptions,
): Orchestrator {
  const { orchestrator: settings, relevance } = config;
  const build = orchestratorBuildContext(PROJECT_DIR);
  const pushRepository =
    settings.image.pushEndpoint === "vpc" ? deps.registry.repositoryUrl : deps.registry.internetRepositoryUrl;
  const credentials = pushCredentials(config, deps.registry, provider);
  const dashscopeApiKey = settings.dashscopeApiKey ?? config.serving.bailian.apiKey;
  if (!dashscopeApiKey)
    throw new pulumi.RunError("orchestrator.dashscopeApiKey: not set (the config rules require it)");
  const modelApiKey = pulumi
    .all([deps.models.endpoints, deps.models.secrets])
    .apply(([endpoints, secrets]) =>
      [endpoints.embedding, endpoints.rerank].some((e) => e.authSecret === DASHSCOPE_AUTH_SECRET)
        ? secrets[DASHSCOPE_AUTH_SECRET]
        : undefined,
    );
  const search = deps.search;
  return new Orchestrator(
    "orchestrator",
    {
      kubernetes: deps.cluster.provider,
      namespace: deps.workload.namespace,
      serviceAccountName: deps.workload.serviceAccount,
      roleName: deps.identity.roleNames.orchestrator,
      image: {
        ...build,
        pushRepository,
        pullRepository: deps.registry.repositoryUrl,
        registry: { server: pushRepository.apply((url) => url.split("/")[0] as string), ...credentials },
      },
      profile: relevanceProfile(relevance),
      modelEndpoints: deps.models.endpoints,
      modelApiKey: pulumi.secret(modelApiKey),
      search: {
        indexAlias: search.indexAlias,
        elasticsearch: { url: search.elasticsearchUrl, ...search.clientCredentials.elasticsearch },
        opensearch: { url: search.opensearchUrl, ...search.clientCredentials.opensearch },
      },
      oss: { bucket: deps.storage.docsBucket, region: config.region, endpoint: deps.storage.intranetEndpoint },
      // Under logs/: the orchestrator's RAM policy lets it write nowhere else in the docs bucket.
      prefixes: {
        raw: STORAGE_PREFIXES.raw,
        events: `${STORAGE_PREFIXES.logs}events/`,
        recs: `${STORAGE_PREFIXES.logs}recs-events/`,
      },
      dashscopeApiKey: pulumi.secret(dashscopeApiKey),
      apiKeys: pulumi.secret(settings.apiKeys),
      ...(deps.airec ? { airec: deps.airec } : {}),
      settings: {
        replicas: settings.replicas,
        resources: settings.resources,
        targetCpuUtilization: settings.targetCpuUtilization,
        chatModel: settings.chatModel,
        dashscopeBaseUrl:
          settings.dashscopeBaseUrl ?? `${config.serving.bailian.baseUrl.replace(/\/$/, "")}/compatible-mode/v1`,
        rateLimitPerMinute: settings.rateLimitPerMinute,
        logLevel: settings.logLevel,
        shutdownGraceMs: settings.shutdownGraceMs,
        ingress: settings.ingress,
      },
      vswitchIds: deps.network.vswitchIds,
      after: [search.setupJob, ...deps.models.ready],
    },
    opts,
  );
}
