import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { sha256Hex } from "../../components/orchestrator";
import { RESTRICTED_NAMESPACE_LABELS } from "../../components/pod-security";
import { existingClusterStackText } from "../helpers/existing-cluster";
import { type Manifest, manifestsOf, podsFromTemplates } from "../helpers/manifests";
import { runProgram } from "../helpers/program";
import { ephemeralStackText, readRepoFile } from "../helpers/stack-files";
import { ApiServer, type KubectlResult } from "./api-server";

/**
 * Every committed stack's Kubernetes objects, exactly as the program hands them to the provider (taken
 * from the mock runtime), through a real API server: server-side apply with --dry-run=server, so schema
 * validation, defaulting and admission (PodSecurity among it) all run. Any error or warning fails.
 */

/** A stack file with the orchestrator and its Ingress on, as `pulumi config set --path` would write them. */
function withOrchestrator(text: string): string {
  const stack = parse(text);
  stack.config["search-backbone:orchestrator"] = {
    enabled: true,
    dashscopeApiKey: "sk-orchestrator-chat-key",
    apiKeys: [{ id: "web", sha256: sha256Hex("caller-key") }],
    ingress: { enabled: true, host: "chat.example.internal" },
    image: { username: "acme-pusher", password: "Registry-Pa55word" },
  };
  return stringify(stack);
}

// The committed stacks leave the orchestrator off until their secrets are set; the last case turns it on.
const STACKS: [string, string, () => string][] = [
  ["dev", "dev", () => readRepoFile("Pulumi.dev.yaml")],
  ["prod", "prod", () => readRepoFile("Pulumi.prod.yaml")],
  ["pr-42", "pr-42", () => ephemeralStackText()],
  ["prod with the orchestrator and its Ingress", "prod", () => withOrchestrator(readRepoFile("Pulumi.prod.yaml"))],
  // Every Kubernetes part on an existing cluster (existing-cluster.kubernetes.test.ts also deploys it).
  ["platform, on an existing cluster", "platform", () => existingClusterStackText()],
];

/**
 * Kinds a bare API server does not serve: their CustomResourceDefinitions come with ACK's add-ons
 * (AlbConfig with the ALB Ingress controller), whose schemas are not published as a package.
 */
const NOT_SERVED = new Set(["alibabacloud.com/v1 AlbConfig"]);

let server: ApiServer;
beforeAll(() => {
  server = ApiServer.start();
});
afterAll(() => server?.stop());

const id = (m: Manifest) => `${m.kind} ${m.metadata.namespace ? `${m.metadata.namespace}/` : ""}${m.metadata.name}`;
const problem = (m: Manifest, r: KubectlResult) =>
  !r.ok || r.warnings.length ? [`${id(m)}: ${[...r.warnings, r.error].filter(Boolean).join(" | ")}`] : [];

describe.each(STACKS)("stack %s on a real API server", (_, stack, text) => {
  let manifests: Manifest[] = [];

  beforeAll(async () => {
    const run = await runProgram(stack, text());
    if (run.error) throw run.error;
    manifests = manifestsOf(run.recorder.resources).filter((m) => !NOT_SERVED.has(`${m.apiVersion} ${m.kind}`));
    // Objects in a namespace can only be dry-run once it exists, and a Pod once its service account
    // exists: create those for real, with each namespace's `default` account (which the controller
    // manager, absent here, would add).
    const prerequisites = manifests.filter((m) => m.kind === "Namespace" || m.kind === "ServiceAccount");
    const defaults = manifests
      .filter((m) => m.kind === "Namespace")
      .map((m) => ({
        apiVersion: "v1",
        kind: "ServiceAccount",
        metadata: { name: "default", namespace: m.metadata.name },
      }));
    const failed = [...prerequisites, ...defaults].flatMap((m) => problem(m, server.apply(m, { dryRun: false })));
    expect(failed).toEqual([]);
  });

  it("labels every namespace it creates to enforce PodSecurity restricted", () => {
    const namespaces = manifests.filter((m) => m.kind === "Namespace");
    expect(namespaces.length).toBeGreaterThan(0);
    for (const namespace of namespaces) {
      expect(
        (namespace.metadata.labels as Record<string, string>)?.["pod-security.kubernetes.io/enforce"],
        id(namespace),
      ).toBe("restricted");
    }
  });

  it("passes server-side dry-run with no error and no warning", () => {
    expect(manifests.length).toBeGreaterThan(5);
    expect(manifests.flatMap((m) => problem(m, server.apply(m, { dryRun: true })))).toEqual([]);
  });

  it("has every pod template admitted as a Pod in its namespace", () => {
    const pods = podsFromTemplates(manifests);
    expect(pods.length).toBeGreaterThan(0);
    expect(pods.flatMap((m) => problem(m, server.apply(m, { dryRun: true })))).toEqual([]);
  });
});

/** The checks above can fail: one bad object per class of defect, each reported by the API server. */
describe("known-bad objects are reported", () => {
  const namespace = "controls";
  const container = { name: "app", image: "registry.example/app:1", resources: { requests: { cpu: "100m" } } };
  const deployment = (podSpec: Record<string, unknown>): Manifest => ({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "bad", namespace },
    spec: {
      selector: { matchLabels: { app: "bad" } },
      template: { metadata: { labels: { app: "bad" } }, spec: podSpec },
    },
  });
  const dryRun = (m: Manifest) => problem(m, server.apply(m, { dryRun: true }));

  beforeAll(() => {
    const setup: Manifest[] = [
      {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name: namespace, labels: { ...RESTRICTED_NAMESPACE_LABELS } },
      },
      { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "default", namespace } },
    ];
    expect(setup.flatMap((m) => problem(m, server.apply(m, { dryRun: false })))).toEqual([]);
  });

  it("a root, privileged container: a PodSecurity warning on the Deployment, a refusal of its Pod", () => {
    const root = deployment({ containers: [{ ...container, securityContext: { privileged: true, runAsUser: 0 } }] });
    expect(dryRun(root)).toEqual([
      expect.stringMatching(/^Deployment controls\/bad: Warning: would violate PodSecurity "restricted/),
    ]);
    expect(podsFromTemplates([root]).flatMap(dryRun)).toEqual([
      expect.stringMatching(/forbidden: violates PodSecurity "restricted/),
    ]);
  });

  it("an invalid quantity", () => {
    const bad = deployment({ containers: [{ ...container, resources: { requests: { cpu: "1.5.0" } } }] });
    expect(dryRun(bad)).toEqual([expect.stringMatching(/quantities must match the regular expression/)]);
  });

  it("an HPA whose minimum exceeds its maximum", () => {
    const hpa: Manifest = {
      apiVersion: "autoscaling/v2",
      kind: "HorizontalPodAutoscaler",
      metadata: { name: "bad", namespace },
      spec: {
        scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "bad" },
        minReplicas: 4,
        maxReplicas: 2,
      },
    };
    expect(dryRun(hpa)).toEqual([expect.stringMatching(/minReplicas.*maxReplicas|maxReplicas.*minReplicas/)]);
  });
});
