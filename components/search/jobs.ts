import { createHash } from "node:crypto";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import {
  ENGINE_WORKLOADS,
  type EngineWorkload,
  engineUserName,
  esRoleBody,
  type ModelEndpoints,
  osRoleBody,
  type RelevanceProfile,
  relevanceSummaries,
  SUMMARIES_DATA_KEY,
  stableHash,
} from "@search-backbone/relevance";

export interface SearchJobsArgs {
  readonly namespace: pulumi.Input<string>;
  /** The in-cluster package's image (k8s/backbone) in the stack's ACR. */
  readonly image: pulumi.Input<string>;
  readonly indexAlias: string;
  readonly profile: RelevanceProfile;
  readonly modelEndpoints: pulumi.Input<ModelEndpoints>;
  /** The model endpoints' bearer key (MODEL_API_KEY), when they name one (an EAS service token); secret. */
  readonly modelApiKey?: pulumi.Input<string | undefined>;
  readonly elasticsearch: {
    readonly url: pulumi.Input<string>;
    readonly username: string;
    readonly password: pulumi.Input<string>;
  };
  readonly opensearch: {
    readonly url: pulumi.Input<string>;
    readonly adminSecretName: pulumi.Input<string>;
    readonly tlsSecretName: pulumi.Input<string>;
  };
  readonly oss: {
    readonly bucket: pulumi.Input<string>;
    readonly endpoint: pulumi.Input<string>;
    readonly region: string;
    readonly prefix: string;
  };
  readonly ingest: {
    readonly schedule: string;
    readonly batchSize: number;
    readonly concurrency: number;
    /** DEFAULT_ACCESS of the ingestion: what a document without a permission sidecar gets. */
    readonly defaultAccess: "public" | "deny";
  };
  readonly nodeSelector?: Record<string, string>;
  /** Objects that must exist before the setup job runs (the OpenSearch StatefulSet, the ES instance). */
  readonly dependsOn?: pulumi.Input<pulumi.Resource>[];
  /** The engine users' passwords when the platform sets them (secrets); unset: generated here. */
  readonly engineUserPasswords?: Readonly<Record<EngineWorkload, pulumi.Input<string>>>;
}

/** What the setup job's name hashes: a change to any of it runs setup again. */
export function setupFingerprint(inputs: {
  profile: RelevanceProfile;
  endpoints: ModelEndpoints;
  indexAlias: string;
  image: string;
  /** The engine users' roles as rendered and a digest of their passwords (engineUsersVersion). */
  engineUsers: string;
}): string {
  return stableHash(inputs);
}

/**
 * Changes when a role's rendering or a password changes, so setup runs again and applies it before
 * the orchestrator (which waits for the Job) uses the new password. The passwords enter only as a
 * truncated SHA-256 of 32 random characters each, which reveals nothing usable, so the Job's name
 * need not be a secret.
 */
export function engineUsersVersion(alias: string, passwords: Readonly<Record<EngineWorkload, string>>): string {
  const roles = ENGINE_WORKLOADS.map((w) => [esRoleBody(alias, w), osRoleBody(alias, w)]);
  const digest = createHash("sha256")
    .update(ENGINE_WORKLOADS.map((w) => passwords[w]).join("\u0000"))
    .digest("hex")
    .slice(0, 16);
  return `${stableHash(roles)}-${digest}`;
}

/** A workload's engine credentials: one user name on both engines, its password a secret. */
export interface EngineUserCredentials {
  readonly username: string;
  readonly password: pulumi.Output<string>;
}

/**
 * The in-cluster package's two entry points: the setup Job (applies the rendered profile to both
 * engines, then warms them up; its name carries a hash of the profile, endpoints and image, so a
 * change creates a new Job that runs again) and the ingestion CronJob (raw/ -> both engines).
 * Pulumi waits for the Job to complete, so `pulumi up` finishes only once the backbone is ready.
 */
export class SearchJobs extends pulumi.ComponentResource {
  public readonly setupJobName: pulumi.Output<string>;
  public readonly ingestCronJobName: pulumi.Output<string>;
  /** Completes once both engines hold the profile's indices behind the alias; consumers depend on it. */
  public readonly setupJob: k8s.batch.v1.Job;
  /**
   * The least-privilege users the setup Job makes on both engines: the reader is the orchestrator's,
   * the writer is ingestion's. Only the setup Job holds the admin credentials.
   */
  public readonly engineUsers: Readonly<Record<EngineWorkload, EngineUserCredentials>>;

  constructor(name: string, args: SearchJobsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("backbone:search:Jobs", name, {}, opts);
    const child = { parent: this };
    const namespace = args.namespace;
    const labels = { "app.kubernetes.io/name": "search-backbone-jobs", "app.kubernetes.io/instance": name };

    const settings = new k8s.core.v1.ConfigMap(
      `${name}-settings`,
      {
        metadata: { namespace, labels },
        data: {
          "profile.json": JSON.stringify(args.profile),
          "endpoints.json": pulumi.output(args.modelEndpoints).apply((e) => JSON.stringify(e)),
          // The policy pack's `relevance-engines-agree` rule reads both engines' summaries here.
          [SUMMARIES_DATA_KEY]: pulumi
            .output(args.modelEndpoints)
            .apply((e) => JSON.stringify(relevanceSummaries(args.profile, e))),
        },
      },
      child,
    );
    const esSecret = new k8s.core.v1.Secret(
      `${name}-elasticsearch`,
      {
        metadata: { namespace, labels },
        type: "Opaque",
        stringData: { username: args.elasticsearch.username, password: args.elasticsearch.password },
      },
      child,
    );
    // Always present (empty without a key), so the Jobs' env does not depend on an unknown in preview.
    const modelKeySecret = new k8s.core.v1.Secret(
      `${name}-model-key`,
      {
        metadata: { namespace, labels },
        type: "Opaque",
        stringData: pulumi.secret(pulumi.output(args.modelApiKey).apply((key) => ({ key: key ?? "" }))),
      },
      child,
    );
    // Generated here (kept as secrets in state), not in the Job: the orchestrator in another namespace
    // gets the reader's password as a value through the program, and the Job needs no Kubernetes API
    // access to publish credentials.
    const users = {} as Record<
      EngineWorkload,
      { username: string; password: pulumi.Output<string>; secret: k8s.core.v1.Secret }
    >;
    for (const workload of ENGINE_WORKLOADS) {
      const username = engineUserName(args.indexAlias, workload);
      const given = args.engineUserPasswords?.[workload];
      const password =
        given !== undefined
          ? pulumi.output(given)
          : new random.RandomPassword(
              `${name}-${workload}-password`,
              {
                length: 32,
                special: true,
                overrideSpecial: "_-.",
                minUpper: 2,
                minLower: 2,
                minNumeric: 2,
                minSpecial: 1,
              },
              child,
            ).result;
      const secret = new k8s.core.v1.Secret(
        `${name}-${workload}`,
        { metadata: { namespace, labels }, type: "Opaque", stringData: { username, password } },
        child,
      );
      users[workload] = { username, password: pulumi.secret(password), secret };
    }
    const account = new k8s.core.v1.ServiceAccount(
      `${name}-account`,
      { metadata: { namespace, labels }, automountServiceAccountToken: false },
      child,
    );

    const fromSecret = (variable: string, secretName: pulumi.Input<string>, key: string) => ({
      name: variable,
      valueFrom: { secretKeyRef: { name: secretName, key } },
    });
    // Setup runs as the engines' admins and makes the engine users; ingestion runs as the writer.
    const credentials: Record<"setup" | "ingest", k8s.types.input.core.v1.EnvVar[]> = {
      setup: [
        fromSecret("ELASTICSEARCH_USERNAME", esSecret.metadata.name, "username"),
        fromSecret("ELASTICSEARCH_PASSWORD", esSecret.metadata.name, "password"),
        fromSecret("OPENSEARCH_USERNAME", args.opensearch.adminSecretName, "username"),
        fromSecret("OPENSEARCH_PASSWORD", args.opensearch.adminSecretName, "password"),
        fromSecret("ENGINE_READER_PASSWORD", users.reader.secret.metadata.name, "password"),
        fromSecret("ENGINE_WRITER_PASSWORD", users.writer.secret.metadata.name, "password"),
      ],
      ingest: [
        fromSecret("ELASTICSEARCH_USERNAME", users.writer.secret.metadata.name, "username"),
        fromSecret("ELASTICSEARCH_PASSWORD", users.writer.secret.metadata.name, "password"),
        fromSecret("OPENSEARCH_USERNAME", users.writer.secret.metadata.name, "username"),
        fromSecret("OPENSEARCH_PASSWORD", users.writer.secret.metadata.name, "password"),
      ],
    };
    const env: k8s.types.input.core.v1.EnvVar[] = [
      { name: "PROFILE_FILE", value: "/etc/backbone/profile.json" },
      { name: "ENDPOINTS_FILE", value: "/etc/backbone/endpoints.json" },
      { name: "INDEX_ALIAS", value: args.indexAlias },
      { name: "ELASTICSEARCH_URL", value: args.elasticsearch.url },
      { name: "OPENSEARCH_URL", value: args.opensearch.url },
      { name: "OPENSEARCH_CA_FILE", value: "/etc/opensearch-tls/ca.crt" },
      // Empty means none: the CLI reads MODEL_API_KEY as optional (k8s/backbone/src/cli.ts).
      { name: "MODEL_API_KEY", valueFrom: { secretKeyRef: { name: modelKeySecret.metadata.name, key: "key" } } },
      { name: "OSS_BUCKET", value: args.oss.bucket },
      { name: "OSS_ENDPOINT", value: args.oss.endpoint },
      { name: "OSS_REGION", value: args.oss.region },
      { name: "RAW_PREFIX", value: args.oss.prefix },
      { name: "EMBED_BATCH", value: String(args.ingest.batchSize) },
      { name: "EMBED_CONCURRENCY", value: String(args.ingest.concurrency) },
      { name: "DEFAULT_ACCESS", value: args.ingest.defaultAccess },
    ];
    const podSpec = (command: "setup" | "ingest"): k8s.types.input.core.v1.PodSpec => ({
      serviceAccountName: account.metadata.name,
      restartPolicy: "Never",
      ...(args.nodeSelector ? { nodeSelector: args.nodeSelector } : {}),
      securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: "RuntimeDefault" } },
      containers: [
        {
          name: command,
          image: args.image,
          args: [command],
          env: [...env, ...credentials[command]],
          resources: { requests: { cpu: "250m", memory: "512Mi" }, limits: { memory: "1Gi" } },
          securityContext: {
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ["ALL"] },
          },
          volumeMounts: [
            { name: "settings", mountPath: "/etc/backbone", readOnly: true },
            { name: "opensearch-tls", mountPath: "/etc/opensearch-tls", readOnly: true },
          ],
        },
      ],
      volumes: [
        { name: "settings", configMap: { name: settings.metadata.name } },
        {
          name: "opensearch-tls",
          secret: { secretName: args.opensearch.tlsSecretName, items: [{ key: "ca.crt", path: "ca.crt" }] },
        },
      ],
    });

    const usersVersion = pulumi.unsecret(
      pulumi
        .all([users.reader.password, users.writer.password])
        .apply(([reader, writer]) => engineUsersVersion(args.indexAlias, { reader, writer })),
    );
    const fingerprint = pulumi
      .all([args.modelEndpoints, args.image, usersVersion])
      .apply(([endpoints, image, engineUsers]) =>
        setupFingerprint({ profile: args.profile, endpoints, indexAlias: args.indexAlias, image, engineUsers }),
      );
    const setup = new k8s.batch.v1.Job(
      `${name}-setup`,
      {
        metadata: { name: pulumi.interpolate`search-setup-${fingerprint}`, namespace, labels },
        spec: {
          backoffLimit: 3,
          activeDeadlineSeconds: 1800,
          template: { metadata: { labels }, spec: podSpec("setup") },
        },
      },
      { ...child, dependsOn: args.dependsOn ?? [] },
    );
    const cron = new k8s.batch.v1.CronJob(
      `${name}-ingest`,
      {
        metadata: { namespace, labels },
        spec: {
          schedule: args.ingest.schedule,
          timeZone: "Etc/UTC",
          // One run at a time: ingestion is resumable, never concurrent.
          concurrencyPolicy: "Forbid",
          successfulJobsHistoryLimit: 3,
          failedJobsHistoryLimit: 3,
          jobTemplate: { spec: { backoffLimit: 2, template: { metadata: { labels }, spec: podSpec("ingest") } } },
        },
      },
      { ...child, dependsOn: [setup] },
    );
    this.setupJob = setup;
    this.engineUsers = {
      reader: { username: users.reader.username, password: users.reader.password },
      writer: { username: users.writer.username, password: users.writer.password },
    };
    this.setupJobName = setup.metadata.name;
    this.ingestCronJobName = cron.metadata.name;
    this.registerOutputs({ setupJobName: this.setupJobName, ingestCronJobName: this.ingestCronJobName });
  }
}
