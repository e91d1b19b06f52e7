import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
  assertValidProfile,
  type ModelEndpoints,
  ProfileError,
  type RelevanceProfile,
} from "@search-backbone/relevance";
import { requireKubernetesProvider } from "../errors";
import { RESTRICTED_NAMESPACE_LABELS } from "../pod-security";
import { Elasticsearch, type ElasticsearchSettings } from "./elasticsearch";
import { SearchJobs, type SearchJobsArgs } from "./jobs";
import { OpenSearch, type OpenSearchSecurity } from "./opensearch";
import { OPENSEARCH_IMAGE_TAG, type OpenSearchSettings, type Toleration } from "./opensearch-manifests";

/** Tag of the in-cluster package's image (k8s/backbone); bump with its package.json version. */
export const JOBS_IMAGE_TAG = "0.1.0";

export interface SearchArgs {
  readonly cloudName: string;
  readonly profile: RelevanceProfile;
  /**
   * The model-endpoint contract's URLs, as the stack output `modelEndpoints` gives them (or a
   * gateway in front of them). Checked against the profile when known: at construction when plain,
   * else as soon as they resolve, before the setup Job's settings are registered.
   */
  readonly modelEndpoints: pulumi.Input<ModelEndpoints>;
  /** The endpoints' bearer key when they name one (serving.backend eas: the EAS service token); secret. */
  readonly modelApiKey?: pulumi.Input<string | undefined>;
  readonly indexAlias: string;
  /** Alibaba Cloud Elasticsearch to create, or (on an existing cluster) one that already runs. */
  readonly elasticsearch:
    | (ElasticsearchSettings & { readonly password?: pulumi.Input<string> })
    | { readonly existing: ExistingElasticsearch };
  readonly opensearch: OpenSearchSettings & { readonly security?: OpenSearchSecurity };
  readonly ingest: SearchJobsArgs["ingest"];
  /** The VPC Alibaba Cloud Elasticsearch is created in; unused with an existing one. */
  readonly network?: { readonly vpcCidr: pulumi.Input<string>; readonly vswitchId: pulumi.Input<string> };
  /** Registry and namespace the images are mirrored into, e.g. registry-vpc.cn-hangzhou.aliyuncs.com/acme-search. */
  readonly imageRegistry: pulumi.Input<string>;
  readonly oss: {
    readonly bucket: pulumi.Input<string>;
    readonly endpoint: pulumi.Input<string>;
    readonly region: string;
    readonly prefix: string;
  };
  readonly searchPool: { readonly nodeSelector: Record<string, string>; readonly tolerations: readonly Toleration[] };
  readonly tags: Record<string, string>;
  readonly protect: boolean;
  /** The engine users' passwords when the platform sets them (secrets); unset: generated. */
  readonly engineUserPasswords?: SearchJobsArgs["engineUserPasswords"];
}

/** Elasticsearch that already runs: its URL and a user that may create indices, aliases and pipelines. */
export interface ExistingElasticsearch {
  readonly url: string;
  readonly username: string;
  readonly password: pulumi.Input<string>;
}

/**
 * The search backbone: Alibaba Cloud Elasticsearch, OpenSearch on ACK, and the jobs that apply the
 * one relevance profile to both and fill them. The profile is checked against the model endpoints
 * before any resource is registered. The cluster's Kubernetes provider comes through `opts.providers`
 * (beside the Alibaba Cloud one); without one the component refuses to deploy.
 */
export class Search extends pulumi.ComponentResource {
  public readonly elasticsearchUrl: pulumi.Output<string>;
  public readonly opensearchUrl: pulumi.Output<string>;
  public readonly indexAlias: string;
  public readonly setupJobName: pulumi.Output<string>;
  /** The setup Job, for workloads that must start only after the indices exist. */
  public readonly setupJob: k8s.batch.v1.Job;
  /**
   * Clients in other namespaces (the orchestrator) get the credentials and OpenSearch's CA as values:
   * the reader engine user the setup Job makes (read on the alias's indices only), never an admin.
   */
  public readonly clientCredentials: {
    readonly elasticsearch: { readonly username: string; readonly password: pulumi.Output<string> };
    readonly opensearch: {
      readonly username: string;
      readonly password: pulumi.Output<string>;
      readonly caCertPem: pulumi.Output<string>;
    };
  };

  constructor(name: string, args: SearchArgs, opts?: pulumi.ComponentResourceOptions) {
    super("backbone:search:Search", name, {}, opts);
    requireKubernetesProvider(this);
    const checked = (endpoints: ModelEndpoints): ModelEndpoints => {
      try {
        assertValidProfile(args.profile, endpoints);
      } catch (error) {
        if (error instanceof ProfileError) throw new pulumi.ResourceError(error.message, this);
        throw error;
      }
      return endpoints;
    };
    const known = args.modelEndpoints;
    const modelEndpoints =
      pulumi.Output.isInstance(known) || known instanceof Promise
        ? pulumi.output(known).apply(checked)
        : checked(known as ModelEndpoints);
    const inCluster = { parent: this };
    const namespace = new k8s.core.v1.Namespace(
      `${name}-namespace`,
      {
        metadata: {
          name: "search",
          labels: { "app.kubernetes.io/part-of": "search-backbone", ...RESTRICTED_NAMESPACE_LABELS },
        },
      },
      inCluster,
    );
    const elasticsearch =
      "existing" in args.elasticsearch
        ? { ...args.elasticsearch.existing, url: pulumi.output(args.elasticsearch.existing.url) }
        : createElasticsearch(`${name}-elasticsearch`, args, args.elasticsearch, this);
    const image = (repository: string, tag: string) => pulumi.interpolate`${args.imageRegistry}/${repository}:${tag}`;
    const { security, ...opensearchSettings } = args.opensearch;
    const opensearch = new OpenSearch(
      `${name}-opensearch`,
      {
        namespace: namespace.metadata.name,
        settings: opensearchSettings,
        ...(security ? { security } : {}),
        image: image("opensearch", OPENSEARCH_IMAGE_TAG),
        nodeSelector: args.searchPool.nodeSelector,
        tolerations: args.searchPool.tolerations,
        protect: args.protect,
      },
      inCluster,
    );
    const jobs = new SearchJobs(
      `${name}-jobs`,
      {
        namespace: namespace.metadata.name,
        image: image("search-backbone-jobs", JOBS_IMAGE_TAG),
        indexAlias: args.indexAlias,
        profile: args.profile,
        modelEndpoints,
        ...(args.modelApiKey ? { modelApiKey: args.modelApiKey } : {}),
        elasticsearch: { url: elasticsearch.url, username: elasticsearch.username, password: elasticsearch.password },
        opensearch: {
          url: opensearch.url,
          adminSecretName: opensearch.adminSecretName,
          tlsSecretName: opensearch.tlsSecretName,
        },
        oss: args.oss,
        ingest: args.ingest,
        ...(args.engineUserPasswords ? { engineUserPasswords: args.engineUserPasswords } : {}),
        dependsOn: elasticsearch instanceof Elasticsearch ? [opensearch, elasticsearch] : [opensearch],
      },
      inCluster,
    );
    this.elasticsearchUrl = elasticsearch.url;
    this.opensearchUrl = opensearch.url;
    this.indexAlias = args.indexAlias;
    this.setupJobName = jobs.setupJobName;
    this.setupJob = jobs.setupJob;
    const reader = jobs.engineUsers.reader;
    this.clientCredentials = {
      elasticsearch: { username: reader.username, password: reader.password },
      opensearch: { username: reader.username, password: reader.password, caCertPem: opensearch.caCertPem },
    };
    this.registerOutputs({
      elasticsearchUrl: this.elasticsearchUrl,
      opensearchUrl: this.opensearchUrl,
      setupJobName: this.setupJobName,
    });
  }
}

function createElasticsearch(
  name: string,
  args: SearchArgs,
  settings: ElasticsearchSettings & { readonly password?: pulumi.Input<string> },
  parent: pulumi.Resource,
): Elasticsearch {
  const { password, ...esSettings } = settings;
  if (!args.network) {
    throw new pulumi.ResourceError("network: not set; expected the VPC to create Elasticsearch in", parent);
  }
  return new Elasticsearch(
    name,
    {
      cloudName: args.cloudName,
      settings: esSettings,
      vswitchId: args.network.vswitchId,
      vpcCidr: args.network.vpcCidr,
      ...(password !== undefined ? { password } : {}),
      tags: args.tags,
      protect: args.protect,
    },
    { parent },
  );
}
