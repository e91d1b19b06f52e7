import * as docker from "@pulumi/docker";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { RelevanceProfile } from "@search-backbone/relevance";
import { attributed, requireKubernetesProvider } from "../errors";
import type { ModelEndpoints } from "../model-endpoints";
import { RESTRICTED_NAMESPACE_LABELS } from "../pod-security";
import { apiKeysFile } from "./api-keys";
import { FILES, HTTP_PORT, MOUNTS, orchestratorEnv, orchestratorSecretEnv } from "./env";
import { pullReference } from "./image";
import { orchestratorIngress } from "./ingress";
import {
  configChecksum,
  containerResources,
  containerSecurityContext,
  hpaSpec,
  orchestratorLabels,
  pdbSpec,
  podSecurityContext,
  probes,
  selectorLabels,
  spreadConstraints,
  terminationGraceSeconds,
} from "./pod-spec";
import type { ApiKey, OrchestratorSettings } from "./settings";

/** ack-pod-identity-webhook: https://www.alibabacloud.com/help/en/container-service-for-kubernetes/latest/ack-pod-identity-webhook */
export const RRSA_INJECTION_LABEL = "pod-identity.alibabacloud.com/injection";
export const RRSA_ROLE_ANNOTATION = "pod-identity.alibabacloud.com/role-name";
const PRE_STOP_SECONDS = 5;

/** The image this program builds from k8s/ and pushes to the stack's registry. */
export interface BuiltImage {
  /** Build context (k8s/) and the Dockerfile in it; see the Dockerfile's header. */
  readonly context: string;
  readonly dockerfile: string;
  readonly tag: string;
  /** Where this program pushes (`host/namespace/repository`, reachable from where `pulumi up` runs). */
  readonly pushRepository: pulumi.Input<string>;
  /** Where the nodes pull the same digest from (the registry's VPC host). */
  readonly pullRepository: pulumi.Input<string>;
  /** Push credentials; the password is kept secret. */
  readonly registry: {
    readonly [K in keyof docker.types.input.Registry]-?: NonNullable<docker.types.input.Registry[K]>;
  };
}

/**
 * The cluster's Kubernetes provider comes through `opts.providers`, as for any component; without one
 * the component refuses to deploy rather than use whatever cluster the ambient kubeconfig names.
 */
export interface OrchestratorArgs {
  /** Created here and labelled for RRSA injection; the RAM role's trust policy names it. */
  readonly namespace: string;
  readonly serviceAccountName: string;
  /** Name (not ARN) of the RAM role the service account assumes through RRSA; unset (not on ACK): no RRSA. */
  readonly roleName?: pulumi.Input<string>;
  /** Built here and pushed, or (on an existing cluster) an image the platform's CI pushed, by digest. */
  readonly image: BuiltImage | { readonly reference: string };
  readonly profile: RelevanceProfile;
  readonly modelEndpoints: pulumi.Input<ModelEndpoints>;
  /** Bearer token of the model endpoints, when one names an `authSecret`. */
  readonly modelApiKey?: pulumi.Input<string | undefined>;
  /**
   * The DashScope model chat calls, when not settings.chatModel: the Model Studio deployment of the
   * stack's own fine-tune (chat.fineTune bailian).
   */
  readonly chatModel?: pulumi.Input<string>;
  /** Chat from the fine-tuned model on EAS (chat.backend eas): base URL, model name, token (secret). */
  readonly easChat?:
    | {
        readonly baseUrl: pulumi.Input<string>;
        readonly model: string;
        readonly token: pulumi.Input<string>;
      }
    | undefined;
  readonly search: {
    readonly indexAlias: string;
    readonly elasticsearch: {
      readonly url: pulumi.Input<string>;
      readonly username: pulumi.Input<string>;
      readonly password: pulumi.Input<string>;
    };
    readonly opensearch: {
      readonly url: pulumi.Input<string>;
      readonly username: pulumi.Input<string>;
      readonly password: pulumi.Input<string>;
      readonly caCertPem: pulumi.Input<string>;
    };
  };
  readonly oss: {
    readonly bucket: pulumi.Input<string>;
    readonly region: string;
    readonly endpoint: pulumi.Input<string>;
  };
  readonly prefixes: { readonly raw: string; readonly events: string; readonly recs: string; readonly chat: string };
  readonly dashscopeApiKey: pulumi.Input<string>;
  readonly apiKeys: pulumi.Input<ApiKey[]>;
  /** AIRec instance and scene; unset: the service recommends from the backbone alone. */
  readonly airec?: {
    readonly instanceId: pulumi.Input<string>;
    readonly sceneId: pulumi.Input<string>;
    readonly endpoint: pulumi.Input<string>;
  };
  readonly settings: OrchestratorSettings;
  /** For the intranet ALB of the optional Ingress: vSwitches in at least two zones (unused with ingress.className). */
  readonly vswitchIds?: pulumi.Input<string[]>;
  /** What must be ready before the first pod starts (see the Deployment below). */
  readonly after: pulumi.Input<pulumi.Resource>[];
}

/**
 * The orchestrator service (k8s/orchestrator) on ACK: its image built from the Dockerfile and pushed
 * to the stack's registry, run by digest under an RRSA service account, configured from stack outputs.
 */
export class Orchestrator extends pulumi.ComponentResource {
  /** `<vpc registry>/<ns>/<repo>@sha256:…`, what the pods run. */
  public readonly imageRef: pulumi.Output<string>;
  public readonly namespace: pulumi.Output<string>;
  /** http://<service>.<namespace>.svc.cluster.local:8080 */
  public readonly serviceUrl: pulumi.Output<string>;
  public readonly deploymentName: pulumi.Output<string>;

  constructor(name: string, args: OrchestratorArgs, opts?: pulumi.ComponentResourceOptions) {
    super("backbone:orchestrator:Orchestrator", name, {}, opts);
    const { settings } = args;
    // Configuration errors surface here, before any child is registered.
    requireKubernetesProvider(this);
    if (settings.ingress.enabled && !settings.ingress.host) {
      throw new pulumi.ResourceError("ingress.host: not set; expected a host name when ingress.enabled", this);
    }
    const inCluster = { parent: this };

    const image = args.image;
    this.imageRef = "reference" in image ? pulumi.output(image.reference) : builtImageRef(`${name}-image`, image, this);

    // An image named by digest is labelled by its digest's first 12 digits (a label value is at most 63).
    const version = "reference" in image ? `sha256-${image.reference.slice(-64, -52)}` : image.tag;
    const labels = orchestratorLabels(name, version);
    const selector = selectorLabels(name);
    const namespace = new k8s.core.v1.Namespace(
      `${name}-namespace`,
      {
        metadata: {
          name: args.namespace,
          labels: {
            ...labels,
            ...(args.roleName === undefined ? {} : { [RRSA_INJECTION_LABEL]: "on" }),
            ...RESTRICTED_NAMESPACE_LABELS,
          },
        },
      },
      inCluster,
    );
    const ns = namespace.metadata.name;
    const account = new k8s.core.v1.ServiceAccount(
      `${name}-account`,
      {
        metadata: {
          name: args.serviceAccountName,
          namespace: ns,
          labels,
          ...(args.roleName === undefined ? {} : { annotations: { [RRSA_ROLE_ANNOTATION]: args.roleName } }),
        },
      },
      inCluster,
    );

    const env = pulumi
      .all([
        args.search.elasticsearch.url,
        args.search.opensearch.url,
        args.oss.bucket,
        args.oss.endpoint,
        args.airec,
        args.easChat?.baseUrl,
        args.chatModel,
      ])
      .apply(([elasticsearchUrl, opensearchUrl, bucket, endpoint, airec, easChatBaseUrl, chatModel]) =>
        attributed(this, () =>
          orchestratorEnv({
            indexAlias: args.search.indexAlias,
            elasticsearchUrl,
            opensearchUrl,
            oss: { bucket, region: args.oss.region, endpoint },
            eventLogPrefixes: { events: args.prefixes.events, recs: args.prefixes.recs, chat: args.prefixes.chat },
            rawPrefix: args.prefixes.raw,
            airec,
            ...(args.easChat && easChatBaseUrl
              ? { easChat: { baseUrl: easChatBaseUrl, model: args.easChat.model } }
              : {}),
            settings: chatModel ? { ...settings, chatModel } : settings,
          }),
        ),
      );
    const files = pulumi.all([args.modelEndpoints, args.search.opensearch.caCertPem]).apply(([endpoints, ca]) => ({
      [FILES.profile]: JSON.stringify(args.profile),
      [FILES.endpoints]: JSON.stringify(endpoints),
      [FILES.opensearchCa]: ca,
    }));
    const configData = pulumi.all([env, files]).apply(([e, f]) => ({ ...e, ...f }));
    const config = new k8s.core.v1.ConfigMap(
      `${name}-config`,
      { metadata: { namespace: ns, labels }, data: configData },
      inCluster,
    );

    const secretData = pulumi.secret(
      pulumi
        .all([
          args.dashscopeApiKey,
          args.search.elasticsearch.username,
          args.search.elasticsearch.password,
          args.search.opensearch.username,
          args.search.opensearch.password,
          args.modelApiKey,
          args.apiKeys,
          args.easChat?.token,
        ])
        .apply(([dashscopeApiKey, esUser, esPassword, osUser, osPassword, modelApiKey, apiKeys, easChatToken]) =>
          attributed(this, () => ({
            ...orchestratorSecretEnv({
              dashscopeApiKey,
              elasticsearch: { username: esUser, password: esPassword },
              opensearch: { username: osUser, password: osPassword },
              modelApiKey,
              easChatToken,
            }),
            [FILES.apiKeys]: apiKeysFile(apiKeys),
          })),
        ),
    );
    const secret = new k8s.core.v1.Secret(
      `${name}-secrets`,
      { metadata: { namespace: ns, labels }, type: "Opaque", stringData: secretData },
      inCluster,
    );

    const fromConfig = (key: string) => ({
      name: key,
      valueFrom: { configMapKeyRef: { name: config.metadata.name, key } },
    });
    const fromSecret = (key: string) => ({
      name: key,
      valueFrom: { secretKeyRef: { name: secret.metadata.name, key } },
    });
    // Variable names are not secret; keeping them plain keeps the Deployment's diff readable.
    const secretKeys = pulumi.unsecret(secretData.apply((data) => Object.keys(data)));
    const containerEnv = pulumi
      .all([env, secretKeys])
      .apply(([e, keys]) => [
        ...Object.keys(e).map(fromConfig),
        ...keys.filter((k) => k !== FILES.apiKeys).map(fromSecret),
      ]);
    // A SHA-256 over the config and the high-entropy credentials reveals neither; kept plain, or the
    // whole pod template would become a secret and its diffs unreadable.
    const checksum = pulumi.unsecret(pulumi.all([configData, secretData]).apply(([c, s]) => configChecksum(c, s)));

    // Rollout order. `after` holds the search setup Job and the model-serving resources:
    //  - the setup Job: Pulumi creates the Deployment only once the Job has completed (the
    //    kubernetes provider awaits Job completion), so both engines hold the index behind the
    //    alias and its pipelines before the first pod starts. It does not guarantee the ingestion
    //    CronJob has filled it: /readyz only needs the alias, so an empty index serves empty results.
    //  - the model resources: the TorchServe hosts and their internal NLB, or the Bailian
    //    deployments (which wait until the deployment is running). For TorchServe this guarantees
    //    the hosts and the listener exist, not that the model has finished loading; until it has,
    //    the service answers degraded (BM25 only, fused order) rather than refusing to start.
    //    Neither guarantees a dependency stays up: the readiness probe keeps doing that.
    const deployment = new k8s.apps.v1.Deployment(
      `${name}-deployment`,
      {
        metadata: { namespace: ns, labels },
        spec: {
          // The HPA owns the replica count after creation.
          replicas: settings.replicas.min,
          selector: { matchLabels: selector },
          strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
          template: {
            metadata: { labels, annotations: { "checksum/config": checksum } },
            spec: {
              serviceAccountName: account.metadata.name,
              automountServiceAccountToken: false,
              securityContext: podSecurityContext(),
              terminationGracePeriodSeconds: terminationGraceSeconds(settings.shutdownGraceMs, PRE_STOP_SECONDS),
              topologySpreadConstraints: spreadConstraints(selector),
              containers: [
                {
                  name: "orchestrator",
                  image: this.imageRef,
                  ports: [{ name: "http", containerPort: HTTP_PORT }],
                  env: containerEnv,
                  resources: containerResources(settings.resources),
                  ...probes(HTTP_PORT),
                  // Endpoints drop the pod before the process stops accepting.
                  lifecycle: { preStop: { sleep: { seconds: PRE_STOP_SECONDS } } },
                  securityContext: containerSecurityContext(),
                  volumeMounts: [
                    { name: "config", mountPath: MOUNTS.config, readOnly: true },
                    { name: "secrets", mountPath: MOUNTS.secrets, readOnly: true },
                    { name: "tmp", mountPath: MOUNTS.tmp },
                  ],
                },
              ],
              volumes: [
                {
                  name: "config",
                  configMap: {
                    name: config.metadata.name,
                    items: [FILES.profile, FILES.endpoints, FILES.opensearchCa].map((key) => ({ key, path: key })),
                  },
                },
                {
                  name: "secrets",
                  secret: {
                    secretName: secret.metadata.name,
                    items: [{ key: FILES.apiKeys, path: FILES.apiKeys }],
                    defaultMode: 0o440,
                  },
                },
                { name: "tmp", emptyDir: { sizeLimit: "64Mi" } },
              ],
            },
          },
        },
      },
      { ...inCluster, dependsOn: args.after },
    );

    // Flannel (the cluster's CNI) routes ALB traffic to NodePorts, so an Ingress needs one.
    const service = new k8s.core.v1.Service(
      `${name}-service`,
      {
        metadata: { namespace: ns, labels },
        spec: {
          type: settings.ingress.enabled ? "NodePort" : "ClusterIP",
          selector,
          ports: [{ name: "http", port: HTTP_PORT, targetPort: "http" }],
        },
      },
      inCluster,
    );
    new k8s.autoscaling.v2.HorizontalPodAutoscaler(
      `${name}-hpa`,
      { metadata: { namespace: ns, labels }, spec: hpaSpec(deployment.metadata.name, settings) },
      inCluster,
    );
    new k8s.policy.v1.PodDisruptionBudget(
      `${name}-pdb`,
      { metadata: { namespace: ns, labels }, spec: pdbSpec(settings.replicas.min, selector) },
      inCluster,
    );
    if (settings.ingress.enabled)
      orchestratorIngress(
        name,
        { ...args.settings.ingress, vswitchIds: args.vswitchIds ?? [] },
        ns,
        labels,
        service,
        inCluster,
      );

    this.namespace = ns;
    this.deploymentName = deployment.metadata.name;
    this.serviceUrl = pulumi.interpolate`http://${service.metadata.name}.${ns}.svc.cluster.local:${HTTP_PORT}`;
    this.registerOutputs({
      imageRef: this.imageRef,
      namespace: this.namespace,
      serviceUrl: this.serviceUrl,
      deploymentName: this.deploymentName,
    });
  }
}

/** Builds the image from k8s/, pushes it, and returns the digest on the host the nodes pull from. */
function builtImageRef(name: string, image: BuiltImage, parent: pulumi.Resource): pulumi.Output<string> {
  const built = new docker.Image(
    name,
    {
      imageName: pulumi.interpolate`${image.pushRepository}:${image.tag}`,
      build: { context: image.context, dockerfile: image.dockerfile, platform: "linux/amd64" },
      registry: { ...image.registry, password: pulumi.secret(image.registry.password) },
    },
    { parent },
  );
  return pulumi
    .all([image.pullRepository, built.repoDigest])
    .apply(([repository, pushed]) => attributed(parent, () => pullReference(repository, pushed)));
}
