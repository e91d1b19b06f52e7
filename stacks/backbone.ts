import * as alicloud from "@pulumi/alicloud";
import type * as pulumi from "@pulumi/pulumi";
import { Cluster, SEARCH_TAINT } from "../components/cluster";
import { Identity } from "../components/identity";
import { Network } from "../components/network";
import { Registry } from "../components/registry";
import { Search } from "../components/search";
import { Storage, type StoragePrefixes } from "../components/storage";
import type { BackboneConfig } from "./config";
import { bucketName, stackCloudName } from "./naming";
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
  readonly search: {
    readonly elasticsearchUrl: pulumi.Output<string>;
    readonly opensearchUrl: pulumi.Output<string>;
    readonly indexAlias: string;
    readonly setupJobName: pulumi.Output<string>;
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
      deployer: { emptyBucketsOnDestroy: config.storage.forceDestroy, registryEdition: config.registry.edition },
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

  const { relevance, search: searchConfig } = config;
  const search = new Search(
    "search",
    {
      cloudName,
      profile: {
        embedding: { model: relevance.embedding.model, dims: relevance.embedding.dims },
        rerank: { model: relevance.rerank.model },
        similarity: relevance.similarity,
        bm25Weight: relevance.bm25Weight,
        vectorWeight: relevance.vectorWeight,
        candidateDepth: relevance.candidateDepth,
        rerankWindow: relevance.rerankWindow,
        topK: relevance.topK,
        analyzer: relevance.analyzer,
      },
      // Until the model-infrastructure stack output `modelEndpoints` exists, the contract's URLs come
      // from config; the dims are the endpoint's when declared, else the profile's.
      modelEndpoints: {
        embedding: {
          url: searchConfig.modelEndpoints.embeddingUrl,
          model: relevance.embedding.model,
          dims: searchConfig.modelEndpoints.embeddingDims ?? relevance.embedding.dims,
        },
        rerank: { url: searchConfig.modelEndpoints.rerankUrl, model: relevance.rerank.model },
      },
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
    search: {
      elasticsearchUrl: search.elasticsearchUrl,
      opensearchUrl: search.opensearchUrl,
      indexAlias: search.indexAlias,
      setupJobName: search.setupJobName,
    },
  };
}
