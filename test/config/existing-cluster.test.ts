import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../stacks/config";
import { kubeconfigProblem } from "../../stacks/config/kubeconfig";
import { kubeconfigText, rawExistingClusterConfig } from "../helpers/existing-cluster";

const context = { project: "search-backbone", stack: "platform" };

function failure(raw: Record<string, any>): ConfigError {
  try {
    loadConfig(raw, context);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error("expected loadConfig to throw");
}

describe("cluster.existing: bring your own cluster", () => {
  it("loads a complete config with no network keys (no VPC is made)", () => {
    const cfg = loadConfig(rawExistingClusterConfig(), context);
    expect(cfg.cluster.existing?.searchNodes.nodeSelector).toEqual({ "example.com/pool": "search" });
    expect(cfg.cluster.existing?.skipAwait).toBeFalsy();
    expect(cfg.network.vswitches).toEqual([]);
    expect(cfg.search.existing?.elasticsearch.url).toBe("https://es.example.internal:9200");
  });

  it("refuses a kubeconfig without a current context, naming the key, its contexts and what to set", () => {
    const raw = rawExistingClusterConfig({ kubeconfig: kubeconfigText({ "current-context": "" }) });
    const { message, problems } = failure(raw);
    expect(problems).toHaveLength(1);
    expect(message).toContain(
      'search-backbone:cluster.existing.kubeconfig: given (secret, not shown); has no current-context (given ""; its contexts: "platform"); expected current-context naming the context to deploy through',
    );
    // The kubeconfig is a secret: its token never appears.
    expect(message).not.toContain("not-a-real-token");
  });

  it("refuses a current context that names no context, or a context whose user is missing", () => {
    expect(kubeconfigProblem(kubeconfigText({ "current-context": "staging" }))).toBe(
      'current-context "staging" names no context in it (its contexts: "platform"); expected one of them',
    );
    expect(kubeconfigProblem(kubeconfigText({ users: [] }))).toBe(
      'context "platform" names user "deployer", which is not in its users (none); expected one of them',
    );
    expect(kubeconfigProblem(kubeconfigText())).toBeUndefined();
    expect(kubeconfigProblem(JSON.stringify({ kind: "Config", contexts: [] }))).toMatch(/^has no current-context/);
    expect(kubeconfigProblem("clusters: [")).toMatch(/^not YAML or JSON/);
    expect(kubeconfigProblem("just text")).toMatch(/^expected a kubeconfig/);
  });

  it("refuses every key that would need an Alibaba Cloud resource, each by name", () => {
    const raw = rawExistingClusterConfig();
    delete raw.search.existing;
    delete raw.search.modelEndpoints.rerankUrl;
    raw.models.training.enabled = true;
    raw.recommendations = { airec: { mode: "adopt", instanceId: "airec-cn-o400whm78004" } };
    delete raw.cluster.existing.orchestratorImage;
    delete raw.orchestrator.ingress.className;
    const { problems } = failure(raw);
    expect(problems.map((p) => p.path.join("."))).toEqual([
      "search.existing",
      "search.modelEndpoints.rerankUrl",
      "models.training.enabled",
      "recommendations.airec.mode",
      "cluster.existing.orchestratorImage",
      "orchestrator.ingress.className",
    ]);
  });

  it("refuses the PAI-EAS backends, which an existing cluster does not get", () => {
    const raw = rawExistingClusterConfig();
    raw.chat = { backend: "eas" };
    raw.serving = { backend: "eas" };
    const paths = failure(raw).problems.map((p) => p.path.join("."));
    expect(paths).toContain("chat.backend");
    expect(paths).toContain("serving.backend");
    const message = failure(raw).message;
    expect(message).toContain('chat.backend: given "eas"');
    expect(message).toContain('expected "dashscope" (with cluster.existing the stack creates nothing on Alibaba Cloud');
  });

  it("refuses search.existing on a stack that creates ACK", () => {
    const raw = rawExistingClusterConfig();
    delete raw.cluster;
    raw.network = {
      vswitches: [
        { zone: "cn-hangzhou-h", cidr: "10.20.0.0/20" },
        { zone: "cn-hangzhou-i", cidr: "10.20.16.0/20" },
      ],
    };
    const { message, problems } = failure(raw);
    expect(problems.map((p) => p.path.join("."))).toContain("search.existing");
    expect(message).toContain("only applies with cluster.existing");
  });

  it("checks the shape of node selectors, tolerations and PEM material", () => {
    const raw = rawExistingClusterConfig();
    raw.cluster.existing.searchNodes = {
      nodeSelector: { "example.com/pool": "not a label value" },
      tolerations: [{ key: "dedicated", value: "search", effect: "NoEvict" }],
    };
    raw.cluster.existing.opensearchSecurity.caCert = "not a certificate";
    const { message, problems } = failure(raw);
    expect(problems.map((p) => p.path.join("."))).toEqual([
      "cluster.existing.searchNodes.nodeSelector.example.com/pool",
      "cluster.existing.searchNodes.tolerations.0.effect",
      "cluster.existing.opensearchSecurity.caCert",
    ]);
    expect(message).toContain('given "not a label value"; expected a label value');
    // Security material is secret: a problem with it never prints it.
    expect(message).toContain("cluster.existing.opensearchSecurity.caCert: given (secret, not shown)");
  });
});
