import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { ModelEndpoints } from "@search-backbone/relevance";
import { searchEndpoints } from "../components/models";
import { Orchestrator } from "../components/orchestrator";
import { Search } from "../components/search";
import type { BackboneConfig } from "./config";
import { stackCloudName } from "./naming";
import { componentSettings, EVENT_PREFIXES } from "./orchestrator";
import { relevanceProfile } from "./relevance-profile";
import { type StackIdentity, standardTags } from "./tags";

/** Where the orchestrator runs on an existing cluster (as on ACK, without RRSA). */
const ORCHESTRATOR_NAMESPACE = { namespace: "search-backbone", serviceAccount: "orchestrator" } as const;

/** Outputs of a stack on an existing cluster: the Kubernetes half only. */
export interface ExistingClusterOutputs {
  readonly environment: string;
  readonly region: string;
  readonly relevance: BackboneConfig["relevance"];
  readonly modelEndpoints: ModelEndpoints;
  readonly search: {
    readonly elasticsearchUrl: pulumi.Output<string>;
    readonly opensearchUrl: pulumi.Output<string>;
    readonly indexAlias: string;
    readonly setupJobName: pulumi.Output<string>;
  };
  readonly orchestrator?: {
    readonly imageRef: pulumi.Output<string>;
    readonly namespace: pulumi.Output<string>;
    readonly serviceUrl: pulumi.Output<string>;
  };
}

/** The annotation that tells the kubernetes provider not to wait for an object to become ready. */
export const SKIP_AWAIT_ANNOTATION = "pulumi.com/skipAwait";

/**
 * Kinds whose readiness (or, for a Namespace, whose deletion) the provider awaits and which an API server
 * without nodes or controllers never reports: only these get the annotation.
 */
export const AWAITED_KINDS: readonly string[] = [
  "kubernetes:apps/v1:StatefulSet",
  "kubernetes:apps/v1:Deployment",
  "kubernetes:batch/v1:Job",
  "kubernetes:core/v1:Service",
  "kubernetes:core/v1:Namespace",
  "kubernetes:networking.k8s.io/v1:Ingress",
];

/**
 * cluster.existing.skipAwait: adds the annotation to the awaited kinds. Test stacks only (see schema.ts).
 * Pure: tested directly.
 */
export const skipAwait: pulumi.ResourceTransformation = (args) => {
  if (!AWAITED_KINDS.includes(args.type)) return undefined;
  const props = args.props as { metadata?: { annotations?: Record<string, pulumi.Input<string>> } };
  const metadata = props.metadata ?? {};
  return {
    props: {
      ...props,
      metadata: { ...metadata, annotations: { ...metadata.annotations, [SKIP_AWAIT_ANNOTATION]: "true" } },
    },
    opts: args.opts,
  };
};

/**
 * The model endpoints on an existing cluster: the configured gateways (the config rules require both),
 * which speak the model-endpoint contract and take no key. Pure: tested directly.
 */
export function gatewayEndpoints(config: BackboneConfig): ModelEndpoints {
  const { embeddingUrl, rerankUrl } = config.search.modelEndpoints;
  if (!embeddingUrl || !rerankUrl) throw new Error("search.modelEndpoints: unset although the config rules require it");
  const endpoint = { protocol: "contract" as const, authSecret: null };
  return searchEndpoints(
    {
      embedding: { ...endpoint, url: embeddingUrl, model: config.relevance.embedding.model, dims: null },
      rerank: { ...endpoint, url: rerankUrl, model: config.relevance.rerank.model, dims: null },
    },
    config.relevance,
  );
}

/**
 * The backbone on an existing cluster (cluster.existing): only Kubernetes objects, through one provider
 * made from the configured kubeconfig. Nothing on Alibaba Cloud: Elasticsearch, the model endpoints,
 * object storage and the images are named by config (the config rules refuse keys that would need more).
 */
export function createOnExistingCluster(config: BackboneConfig, id: StackIdentity): ExistingClusterOutputs {
  const existing = config.cluster.existing;
  const es = config.search.existing?.elasticsearch;
  if (!existing || !es)
    throw new Error("cluster.existing and search.existing: unset although the config rules require them");
  const provider = new k8s.Provider("cluster", { kubeconfig: pulumi.secret(existing.kubeconfig) });
  const inCluster: pulumi.ComponentResourceOptions = {
    providers: [provider],
    ...(existing.skipAwait ? { transformations: [skipAwait] } : {}),
  };
  const endpoints = gatewayEndpoints(config);
  const { opensearchSecurity: security } = existing;
  const storage = { bucket: existing.objectStorage.bucket, endpoint: existing.objectStorage.endpoint };
  const search = new Search(
    "search",
    {
      cloudName: stackCloudName(config.namePrefix, id.stack),
      profile: relevanceProfile(config.relevance),
      modelEndpoints: endpoints,
      indexAlias: config.search.indexAlias,
      elasticsearch: { existing: { ...es, password: pulumi.secret(es.password) } },
      opensearch: {
        ...config.search.opensearch,
        ...(security
          ? {
              security: {
                ...security,
                adminPassword: pulumi.secret(security.adminPassword),
                nodeKey: pulumi.secret(security.nodeKey),
                adminKey: pulumi.secret(security.adminKey),
              },
            }
          : {}),
      },
      ingest: config.search.ingest,
      imageRegistry: existing.imageRegistry,
      oss: { ...storage, region: config.region, prefix: EVENT_PREFIXES.raw },
      searchPool: existing.searchNodes,
      tags: standardTags(config, id),
      protect: config.environment === "prod",
      ...(existing.engineUserPasswords
        ? {
            engineUserPasswords: {
              reader: pulumi.secret(existing.engineUserPasswords.reader),
              writer: pulumi.secret(existing.engineUserPasswords.writer),
            },
          }
        : {}),
    },
    inCluster,
  );
  const { orchestrator: settings } = config;
  const orchestrator =
    settings.enabled && existing.orchestratorImage
      ? new Orchestrator(
          "orchestrator",
          {
            namespace: ORCHESTRATOR_NAMESPACE.namespace,
            serviceAccountName: ORCHESTRATOR_NAMESPACE.serviceAccount,
            image: { reference: existing.orchestratorImage },
            profile: relevanceProfile(config.relevance),
            modelEndpoints: endpoints,
            search: {
              indexAlias: search.indexAlias,
              elasticsearch: { url: search.elasticsearchUrl, ...search.clientCredentials.elasticsearch },
              opensearch: { url: search.opensearchUrl, ...search.clientCredentials.opensearch },
            },
            oss: { ...storage, region: config.region },
            prefixes: EVENT_PREFIXES,
            dashscopeApiKey: pulumi.secret(settings.dashscopeApiKey),
            apiKeys: pulumi.secret(settings.apiKeys),
            settings: componentSettings(settings),
            after: [search.setupJob],
          },
          inCluster,
        )
      : undefined;
  return {
    environment: config.environment,
    region: config.region,
    relevance: config.relevance,
    modelEndpoints: endpoints,
    search: {
      elasticsearchUrl: search.elasticsearchUrl,
      opensearchUrl: search.opensearchUrl,
      indexAlias: search.indexAlias,
      setupJobName: search.setupJobName,
    },
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
