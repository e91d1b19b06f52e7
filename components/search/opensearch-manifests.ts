/**
 * Pure renderings of the OpenSearch cluster's Kubernetes objects, kept apart from the component so
 * they are read and tested on their own.
 */

export interface OpenSearchSettings {
  readonly nodes: number;
  readonly storageGb: number;
  readonly diskPerformanceLevel: string;
  readonly heap: string;
  readonly memory: string;
  readonly cpu: string;
}

export interface Toleration {
  readonly key: string;
  readonly value: string;
  readonly effect: string;
}

export const OPENSEARCH_VERSION = "3.6.0";
/**
 * The image the cluster runs: the official OPENSEARCH_VERSION image with the official analysis-smartcn
 * plugin added (k8s/opensearch/Dockerfile), so the profile's `smartcn` analyzer exists here too. The
 * tag names the plugin set, so a change to it is a new tag, never a rewritten one.
 */
export const OPENSEARCH_IMAGE_TAG = `${OPENSEARCH_VERSION}-smartcn`;
export const HTTP_PORT = 9200;
export const TRANSPORT_PORT = 9300;
export const CERT_SUBJECT_ORG = "search-backbone";

export const podNames = (name: string, nodes: number) => Array.from({ length: nodes }, (_, i) => `${name}-${i}`);

/** opensearch.yml: security plugin with our own CA on transport and HTTP, no demo configuration. */
export function openSearchYml(name: string, namespace: string, nodes: number): string {
  const discovery =
    nodes === 1
      ? ["discovery.type: single-node"]
      : [
          `discovery.seed_hosts: ["${name}-headless.${namespace}.svc.cluster.local"]`,
          `cluster.initial_cluster_manager_nodes: [${podNames(name, nodes)
            .map((p) => `"${p}"`)
            .join(", ")}]`,
        ];
  return [
    `cluster.name: ${name}`,
    "network.host: 0.0.0.0",
    ...discovery,
    "plugins.security.ssl.transport.pemcert_filepath: certs/node.crt",
    "plugins.security.ssl.transport.pemkey_filepath: certs/node.key",
    "plugins.security.ssl.transport.pemtrustedcas_filepath: certs/ca.crt",
    "plugins.security.ssl.transport.enforce_hostname_verification: true",
    "plugins.security.ssl.http.enabled: true",
    "plugins.security.ssl.http.pemcert_filepath: certs/node.crt",
    "plugins.security.ssl.http.pemkey_filepath: certs/node.key",
    "plugins.security.ssl.http.pemtrustedcas_filepath: certs/ca.crt",
    // Loads config/opensearch-security (with our internal_users.yml) into the security index on first start.
    "plugins.security.allow_default_init_securityindex: true",
    `plugins.security.authcz.admin_dn: ["CN=admin,O=${CERT_SUBJECT_ORG}"]`,
    `plugins.security.nodes_dn: ["CN=${name}-node,O=${CERT_SUBJECT_ORG}"]`,
    'plugins.security.restapi.roles_enabled: ["all_access"]',
    // Remote models (the profile's connectors) run on data nodes; there are no dedicated ML nodes.
    "plugins.ml_commons.only_run_on_ml_node: false",
    "",
  ].join("\n");
}

/** DNS names the node certificate covers: every pod through the headless service, and the service. */
export function nodeDnsNames(name: string, namespace: string): string[] {
  return [
    name,
    `${name}.${namespace}`,
    `${name}.${namespace}.svc`,
    `${name}.${namespace}.svc.cluster.local`,
    `*.${name}-headless.${namespace}.svc.cluster.local`,
    `*.${name}-headless.${namespace}.svc`,
    `*.${name}-headless`,
  ];
}

/**
 * Builds config/opensearch-security from the image's defaults with one internal user, admin, whose
 * bcrypt hash the image's own hash tool computes from the Secret at start (so no hash is kept in
 * state), and one role mapping, admin to all_access: the default `own_index` mapping (every user may
 * do anything to an index named after itself) would widen the least-privilege engine users the setup
 * Job makes (packages/relevance/src/engine-users.ts). [I] the tool's path and output format are those
 * of the 2.x/3.x images. Read once, when the security index is first initialised.
 */
export const SECURITY_INIT_SCRIPT = [
  "set -eu",
  "cp -r /usr/share/opensearch/config/opensearch-security/. /security/",
  'hash=$(/usr/share/opensearch/plugins/opensearch-security/tools/hash.sh -p "$ADMIN_PASSWORD" | tail -n 1)',
  "cat > /security/internal_users.yml <<EOF",
  "_meta:",
  "  type: internalusers",
  "  config_version: 2",
  "admin:",
  '  hash: "$hash"',
  "  reserved: true",
  "  backend_roles: [admin]",
  "  description: search-backbone administrator (password in the admin Secret)",
  "EOF",
  "cat > /security/roles_mapping.yml <<EOF",
  "_meta:",
  "  type: rolesmapping",
  "  config_version: 2",
  "all_access:",
  "  reserved: false",
  "  backend_roles: [admin]",
  "  description: Maps admin to all_access",
  "EOF",
].join("\n");

export function storageClassParameters(performanceLevel: string): Record<string, string> {
  // Alibaba Cloud disk CSI: encrypted ESSD at the configured performance level.
  return { type: "cloud_essd", performanceLevel, encrypted: "true", fstype: "ext4" };
}
