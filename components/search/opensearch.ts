import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import * as tls from "@pulumi/tls";
import { stableHash } from "@search-backbone/relevance";
import {
  CERT_SUBJECT_ORG,
  HTTP_PORT,
  nodeDnsNames,
  type OpenSearchSettings,
  openSearchYml,
  SECURITY_INIT_SCRIPT,
  storageClassParameters,
  type Toleration,
  TRANSPORT_PORT,
} from "./opensearch-manifests";

/** What PodSecurity `restricted` asks of each container (the pod sets the user and seccomp). */
const RESTRICTED_CONTAINER = { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } };

export interface OpenSearchArgs {
  readonly namespace: pulumi.Input<string>;
  readonly settings: OpenSearchSettings;
  /** Full image reference in the stack's ACR, e.g. registry-vpc.cn-hangzhou.aliyuncs.com/acme/opensearch:3.6.0-smartcn. */
  readonly image: pulumi.Input<string>;
  /** The search node pool: its label and taint. */
  readonly nodeSelector: Record<string, string>;
  readonly tolerations: readonly Toleration[];
  /** Prod: data volumes are retained when the release is deleted, and the StatefulSet is protected. */
  readonly protect: boolean;
  /** The admin password and TLS material, when the platform issues them; unset: made here. */
  readonly security?: OpenSearchSecurity;
}

/** OpenSearch's credentials as a platform's CA issues them (PEM; keys in PKCS#8). */
export interface OpenSearchSecurity {
  readonly adminPassword: pulumi.Input<string>;
  readonly caCert: pulumi.Input<string>;
  readonly nodeCert: pulumi.Input<string>;
  readonly nodeKey: pulumi.Input<string>;
  readonly adminCert: pulumi.Input<string>;
  readonly adminKey: pulumi.Input<string>;
}

/**
 * OpenSearch on ACK from our own manifests (the official image carries k-NN, neural-search,
 * ml-commons, job-scheduler and security): a StatefulSet on the search node pool with encrypted ESSD
 * volumes, the security plugin with TLS from a CA made here, admin credentials in a Secret, a
 * PodDisruptionBudget and a cluster-internal Service only.
 */
export class OpenSearch extends pulumi.ComponentResource {
  /** https://<name>.<namespace>.svc:9200 */
  public readonly url: pulumi.Output<string>;
  /** Secret with `username` and `password` of the admin user. */
  public readonly adminSecretName: pulumi.Output<string>;
  /** Secret whose `ca.crt` verifies the HTTP certificate. */
  public readonly tlsSecretName: pulumi.Output<string>;
  public readonly serviceName: string;
  /** For clients outside this namespace (Secrets do not cross namespaces): the admin user and the CA. */
  public readonly adminUsername = "admin";
  public readonly adminPassword: pulumi.Output<string>;
  public readonly caCertPem: pulumi.Output<string>;

  constructor(name: string, args: OpenSearchArgs, opts?: pulumi.ComponentResourceOptions) {
    super("backbone:search:OpenSearch", name, {}, opts);
    const { settings } = args;
    const child = { parent: this };
    const stateful = { parent: this, protect: args.protect };
    const namespace = pulumi.output(args.namespace);
    const labels = { "app.kubernetes.io/name": "opensearch", "app.kubernetes.io/instance": name };

    const security = args.security ?? generatedSecurity(name, namespace, stateful);
    const tlsSecret = new k8s.core.v1.Secret(
      `${name}-tls`,
      {
        metadata: { namespace, labels },
        type: "Opaque",
        stringData: {
          "ca.crt": security.caCert,
          "node.crt": security.nodeCert,
          "node.key": pulumi.secret(security.nodeKey),
          "admin.crt": security.adminCert,
          "admin.key": pulumi.secret(security.adminKey),
        },
      },
      child,
    );
    const adminSecret = new k8s.core.v1.Secret(
      `${name}-admin`,
      {
        metadata: { namespace, labels },
        type: "Opaque",
        stringData: { username: this.adminUsername, password: pulumi.secret(security.adminPassword) },
      },
      child,
    );
    const config = new k8s.core.v1.ConfigMap(
      `${name}-config`,
      {
        metadata: { namespace, labels },
        data: { "opensearch.yml": namespace.apply((ns) => openSearchYml(name, ns, settings.nodes)) },
      },
      child,
    );
    const storageClass = new k8s.storage.v1.StorageClass(
      `${name}-essd`,
      {
        metadata: { labels },
        provisioner: "diskplugin.csi.alibabacloud.com",
        parameters: storageClassParameters(settings.diskPerformanceLevel),
        reclaimPolicy: args.protect ? "Retain" : "Delete",
        // Bind in the zone the pod lands in (disks are zonal).
        volumeBindingMode: "WaitForFirstConsumer",
        allowVolumeExpansion: true,
      },
      child,
    );
    const headless = new k8s.core.v1.Service(
      `${name}-headless`,
      {
        metadata: { name: `${name}-headless`, namespace, labels },
        spec: {
          clusterIP: "None",
          publishNotReadyAddresses: true,
          selector: labels,
          ports: [{ name: "transport", port: TRANSPORT_PORT }],
        },
      },
      child,
    );
    const service = new k8s.core.v1.Service(
      `${name}-service`,
      {
        metadata: { name, namespace, labels },
        spec: {
          type: "ClusterIP",
          selector: labels,
          ports: [{ name: "http", port: HTTP_PORT, targetPort: HTTP_PORT }],
        },
      },
      child,
    );
    new k8s.policy.v1.PodDisruptionBudget(
      `${name}-pdb`,
      { metadata: { namespace, labels }, spec: { maxUnavailable: 1, selector: { matchLabels: labels } } },
      child,
    );

    const image = args.image;
    new k8s.apps.v1.StatefulSet(
      `${name}-nodes`,
      {
        metadata: { name, namespace, labels },
        spec: {
          replicas: settings.nodes,
          serviceName: headless.metadata.name,
          podManagementPolicy: "Parallel",
          selector: { matchLabels: labels },
          template: {
            metadata: { labels, annotations: { "backbone/config-hash": config.data.apply((d) => stableHash(d)) } },
            spec: {
              nodeSelector: args.nodeSelector,
              tolerations: args.tolerations.map((t) => ({ ...t, operator: "Equal" })),
              affinity: {
                podAntiAffinity: {
                  requiredDuringSchedulingIgnoredDuringExecution: [
                    { labelSelector: { matchLabels: labels }, topologyKey: "kubernetes.io/hostname" },
                  ],
                },
              },
              // PodSecurity `restricted` (the namespace enforces it). vm.max_map_count, which Lucene's
              // memory-mapped files need, is set by the search nodes at boot (components/cluster).
              securityContext: {
                runAsNonRoot: true,
                runAsUser: 1000,
                runAsGroup: 1000,
                fsGroup: 1000,
                seccompProfile: { type: "RuntimeDefault" },
              },
              initContainers: [
                {
                  name: "security-config",
                  image,
                  securityContext: RESTRICTED_CONTAINER,
                  command: ["sh", "-c", SECURITY_INIT_SCRIPT],
                  env: [
                    {
                      name: "ADMIN_PASSWORD",
                      valueFrom: { secretKeyRef: { name: adminSecret.metadata.name, key: "password" } },
                    },
                  ],
                  volumeMounts: [{ name: "security", mountPath: "/security" }],
                },
              ],
              containers: [
                {
                  name: "opensearch",
                  image,
                  securityContext: RESTRICTED_CONTAINER,
                  env: [
                    { name: "node.name", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
                    { name: "OPENSEARCH_JAVA_OPTS", value: `-Xms${settings.heap} -Xmx${settings.heap}` },
                    // Our TLS and users, never the image's demo certificates.
                    { name: "DISABLE_INSTALL_DEMO_CONFIG", value: "true" },
                  ],
                  ports: [
                    { name: "http", containerPort: HTTP_PORT },
                    { name: "transport", containerPort: TRANSPORT_PORT },
                  ],
                  resources: {
                    requests: { cpu: settings.cpu, memory: settings.memory },
                    limits: { memory: settings.memory },
                  },
                  readinessProbe: { tcpSocket: { port: HTTP_PORT }, periodSeconds: 10, failureThreshold: 30 },
                  volumeMounts: [
                    { name: "data", mountPath: "/usr/share/opensearch/data" },
                    {
                      name: "config",
                      mountPath: "/usr/share/opensearch/config/opensearch.yml",
                      subPath: "opensearch.yml",
                    },
                    { name: "tls", mountPath: "/usr/share/opensearch/config/certs", readOnly: true },
                    { name: "security", mountPath: "/usr/share/opensearch/config/opensearch-security" },
                  ],
                },
              ],
              volumes: [
                { name: "config", configMap: { name: config.metadata.name } },
                { name: "tls", secret: { secretName: tlsSecret.metadata.name, defaultMode: 0o440 } },
                { name: "security", emptyDir: {} },
              ],
            },
          },
          volumeClaimTemplates: [
            {
              metadata: { name: "data" },
              spec: {
                accessModes: ["ReadWriteOnce"],
                storageClassName: storageClass.metadata.name,
                resources: { requests: { storage: `${settings.storageGb}Gi` } },
              },
            },
          ],
        },
      },
      { ...stateful, dependsOn: [service] },
    );

    this.serviceName = name;
    this.url = pulumi.interpolate`https://${service.metadata.name}.${namespace}.svc:${HTTP_PORT}`;
    this.adminSecretName = adminSecret.metadata.name;
    this.tlsSecretName = tlsSecret.metadata.name;
    this.adminPassword = pulumi.secret(security.adminPassword);
    this.caCertPem = pulumi.output(security.caCert);
    this.registerOutputs({ url: this.url, adminSecretName: this.adminSecretName, tlsSecretName: this.tlsSecretName });
  }
}

/**
 * OpenSearch's own CA with a node and an admin certificate signed by it, and a random admin password:
 * what the stack makes when the platform issues none (it needs the tls and random providers).
 */
function generatedSecurity(
  name: string,
  namespace: pulumi.Output<string>,
  opts: { readonly parent: pulumi.Resource; readonly protect: boolean },
): OpenSearchSecurity {
  const child = { parent: opts.parent };
  const caKey = new tls.PrivateKey(`${name}-ca-key`, { algorithm: "RSA", rsaBits: 3072 }, child);
  const ca = new tls.SelfSignedCert(
    `${name}-ca`,
    {
      privateKeyPem: caKey.privateKeyPem,
      isCaCertificate: true,
      validityPeriodHours: 24 * 365 * 5,
      allowedUses: ["cert_signing", "crl_signing"],
      subject: { commonName: `${name}-ca`, organization: CERT_SUBJECT_ORG },
    },
    child,
  );
  const signed = (role: "node" | "admin", commonName: string, dnsNames?: pulumi.Input<string[]>) => {
    const key = new tls.PrivateKey(`${name}-${role}-key`, { algorithm: "RSA", rsaBits: 2048 }, child);
    const request = new tls.CertRequest(
      `${name}-${role}-csr`,
      {
        privateKeyPem: key.privateKeyPem,
        subject: { commonName, organization: CERT_SUBJECT_ORG },
        ...(dnsNames ? { dnsNames } : {}),
      },
      child,
    );
    const cert = new tls.LocallySignedCert(
      `${name}-${role}-cert`,
      {
        certRequestPem: request.certRequestPem,
        caPrivateKeyPem: caKey.privateKeyPem,
        caCertPem: ca.certPem,
        validityPeriodHours: 24 * 365 * 2,
        earlyRenewalHours: 24 * 30,
        allowedUses: ["digital_signature", "key_encipherment", "server_auth", "client_auth"],
      },
      child,
    );
    // The security plugin reads PKCS#8 keys.
    return { cert: cert.certPem, key: key.privateKeyPemPkcs8 };
  };
  const node = signed(
    "node",
    `${name}-node`,
    namespace.apply((ns) => nodeDnsNames(name, ns)),
  );
  const admin = signed("admin", "admin");
  const adminPassword = new random.RandomPassword(
    `${name}-admin-password`,
    { length: 32, special: true, overrideSpecial: "_-.", minUpper: 2, minLower: 2, minNumeric: 2, minSpecial: 1 },
    { ...child, protect: opts.protect },
  );
  return {
    adminPassword: adminPassword.result,
    caCert: ca.certPem,
    nodeCert: node.cert,
    nodeKey: node.key,
    adminCert: admin.cert,
    adminKey: admin.key,
  };
}
