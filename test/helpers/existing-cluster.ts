import { stringify } from "yaml";
import { sha256Hex } from "../../components/orchestrator";

/** OpenSearch's security material for a stack on an existing cluster, as its platform's CA issues it. */
export interface OpenSearchSecurityPem {
  readonly adminPassword: string;
  readonly caCert: string;
  readonly nodeCert: string;
  readonly nodeKey: string;
  readonly adminCert: string;
  readonly adminKey: string;
}

/** A kubeconfig's text with one context that is also the current one (fields a test can override). */
export function kubeconfigText(overrides: Record<string, unknown> = {}): string {
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "platform", cluster: { server: "https://10.0.0.1:6443" } }],
    users: [{ name: "deployer", user: { token: "not-a-real-token" } }],
    contexts: [{ name: "platform", context: { cluster: "platform", user: "deployer" } }],
    "current-context": "platform",
    ...overrides,
  });
}

const fakePem = (label: string) => `-----BEGIN ${label}-----\nMIIBfake\n-----END ${label}-----\n`;

/** PEM-shaped stand-ins (the mock runtime never parses them). */
export const FAKE_SECURITY: OpenSearchSecurityPem = {
  adminPassword: "Admin-password-0123456789",
  caCert: fakePem("CERTIFICATE"),
  nodeCert: fakePem("CERTIFICATE"),
  nodeKey: fakePem("PRIVATE KEY"),
  adminCert: fakePem("CERTIFICATE"),
  adminKey: fakePem("PRIVATE KEY"),
};

/** The orchestrator's image as a platform's CI pushed it. */
export const ORCHESTRATOR_IMAGE = `registry.example.internal/search/orchestrator@sha256:${"ab12".repeat(16)}`;

/**
 * A complete raw config for a stack on an existing cluster with every Kubernetes part on (OpenSearch,
 * the setup Job, the ingestion CronJob, the orchestrator and its Ingress), as its stack file gives it.
 */
export function rawExistingClusterConfig(
  options: { kubeconfig?: string; security?: OpenSearchSecurityPem; skipAwait?: boolean } = {},
): Record<string, any> {
  return {
    environment: "dev",
    region: "cn-hangzhou",
    owner: "search-platform",
    namePrefix: "acme",
    cluster: {
      existing: {
        kubeconfig: options.kubeconfig ?? kubeconfigText(),
        imageRegistry: "registry.example.internal/search",
        searchNodes: {
          nodeSelector: { "example.com/pool": "search" },
          tolerations: [{ key: "dedicated", value: "search", effect: "NoSchedule" }],
        },
        objectStorage: { bucket: "acme-search-docs", endpoint: "oss-cn-hangzhou-internal.aliyuncs.com" },
        orchestratorImage: ORCHESTRATOR_IMAGE,
        opensearchSecurity: options.security ?? FAKE_SECURITY,
        engineUserPasswords: { reader: "Reader-password-0123456789", writer: "Writer-password-0123456789" },
        ...(options.skipAwait ? { skipAwait: true } : {}),
      },
    },
    search: {
      existing: {
        elasticsearch: { url: "https://es.example.internal:9200", username: "backbone", password: "es-password-123" },
      },
      modelEndpoints: {
        embeddingUrl: "http://models.example.internal:8080/predictions/embed",
        rerankUrl: "http://models.example.internal:8080/predictions/rerank",
      },
    },
    models: { training: { enabled: false } },
    orchestrator: {
      enabled: true,
      dashscopeApiKey: "sk-orchestrator-chat-key",
      apiKeys: [{ id: "web", sha256: sha256Hex("caller-key") }],
      ingress: { enabled: true, host: "chat.example.internal", className: "nginx" },
    },
  };
}

/** The same config as a stack file's text (project-namespaced keys). */
export function existingClusterStackText(options: Parameters<typeof rawExistingClusterConfig>[0] = {}): string {
  const raw = rawExistingClusterConfig(options);
  return stringify({ config: Object.fromEntries(Object.entries(raw).map(([k, v]) => [`search-backbone:${k}`, v])) });
}
