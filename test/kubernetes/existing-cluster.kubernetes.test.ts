import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import * as k8s from "@pulumi/kubernetes";
import {
  type EngineEvent,
  LocalWorkspace,
  type ProjectSettings,
  type Stack,
  type StackSettings,
} from "@pulumi/pulumi/automation";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RESTRICTED_NAMESPACE_LABELS } from "../../components/pod-security";
import { nodeDnsNames } from "../../components/search/opensearch-manifests";
import { ConfigError, loadConfig } from "../../stacks/config";
import { SKIP_AWAIT_ANNOTATION } from "../../stacks/existing-cluster";
import { type EngineTools, engineEnv, findEngine, repoRoot } from "../engine/harness";
import { type OpenSearchSecurityPem, rawExistingClusterConfig } from "../helpers/existing-cluster";
import { ApiServer } from "./api-server";

/**
 * A stack on an existing cluster (cluster.existing) through the real engine (file backend), the real
 * pulumi-kubernetes provider built from the Go module proxy (scripts/kube.sh provider, named by the
 * project's plugins.providers, never downloaded) and the real API server: up, read back, two updates,
 * a refresh that finds no drift, destroy. Every Kubernetes part is on: OpenSearch, the setup Job, the
 * ingestion CronJob, the orchestrator and its Ingress. The API server has no nodes and no controllers,
 * so this stack sets cluster.existing.skipAwait (the test-only switch; see stacks/config/schema.ts).
 */

const PROJECT = "search-backbone";
const STACK = "kube-byo";
const NAMESPACES = ["search", "search-backbone"];

/** Config keys set as secrets (with --path), as a platform team would set them. */
const SECRET_PATHS = [
  "cluster.existing.kubeconfig",
  "search.existing.elasticsearch.password",
  "orchestrator.dashscopeApiKey",
  ...["adminPassword", "caCert", "nodeCert", "nodeKey", "adminCert", "adminKey"].map(
    (key) => `cluster.existing.opensearchSecurity.${key}`,
  ),
  "cluster.existing.engineUserPasswords.reader",
  "cluster.existing.engineUserPasswords.writer",
];

let server: ApiServer;
let tools: EngineTools | undefined;
let workDir: string;
let stateDir: string;
let stack: Stack;

interface Run {
  readonly warnings: string[];
  readonly errors: string[];
  readonly outputs: Record<string, any>;
}

/**
 * The one warning expected: the engine notes that the program's SDK (@pulumi/kubernetes 4.34.2) asks for
 * a provider at least as new, and the one built here is v4.25.0's commit (scripts/kube.sh). Any other
 * warning (a PodSecurity one among them) fails the test.
 */
const PROVIDER_VERSION_WARNING =
  /^resource plugin kubernetes is expected to have version >=4\.34\.2, but has 4\.0\.0-20260115033456-f47bc2d6f199/;

const diagnostics = (events: EngineEvent[], severity: string) =>
  events.flatMap((e) =>
    e.diagnosticEvent && e.diagnosticEvent.severity === severity
      ? [`${e.diagnosticEvent.urn ?? ""} ${e.diagnosticEvent.message}`.trim()]
      : [],
  );

/**
 * Runs an engine operation with kube-controller-manager's garbage collection emulated beside it (see
 * ApiServer.collectGarbage): without it every delete waits for a collector that never comes.
 */
async function withCollector<T>(operation: () => Promise<T>): Promise<T> {
  let running = true;
  const loop = (async () => {
    while (running) {
      await server.collectGarbage().catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  })();
  try {
    return await operation();
  } finally {
    running = false;
    await loop;
  }
}

async function up(): Promise<Run> {
  const events: EngineEvent[] = [];
  const result = await withCollector(() => stack.up({ onEvent: (e) => events.push(e) }));
  const outputs = Object.fromEntries(Object.entries(result.outputs).map(([k, v]) => [k, v.value]));
  const warnings = diagnostics(events, "warning").filter((w) => !PROVIDER_VERSION_WARNING.test(w));
  return { warnings, errors: diagnostics(events, "error"), outputs };
}

/** OpenSearch's CA, node and admin certificates from openssl, as a platform's CA would issue them. */
function openSearchSecurity(dir: string): OpenSearchSecurityPem {
  const ssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  const key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  ssl("req", "-x509", ...key, "-days", "2", "-subj", "/CN=opensearch-ca", "-keyout", "ca.key", "-out", "ca.crt");
  const sign = (role: string, subject: string, ext: string) => {
    ssl("req", ...key, "-subj", subject, "-keyout", `${role}.key`, "-out", `${role}.csr`);
    writeFileSync(path.join(dir, `${role}.ext`), `${ext}\n`);
    ssl(
      "x509",
      "-req",
      "-in",
      `${role}.csr`,
      "-CA",
      "ca.crt",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-days",
      "2",
      "-extfile",
      `${role}.ext`,
      "-out",
      `${role}.crt`,
    );
  };
  const names = nodeDnsNames("search-opensearch", "search").map((n) => `DNS:${n}`);
  sign("node", "/O=search-backbone/CN=search-opensearch-node", `subjectAltName=${names.join(",")}`);
  sign("admin", "/O=search-backbone/CN=admin", "extendedKeyUsage=clientAuth");
  const read = (file: string) => readFileSync(path.join(dir, file), "utf8");
  return {
    adminPassword: "Opensearch-admin-0123456789",
    caCert: read("ca.crt"),
    nodeCert: read("node.crt"),
    nodeKey: read("node.key"),
    adminCert: read("admin.crt"),
    adminKey: read("admin.key"),
  };
}

/** The stack's config without its secret leaves (set separately, encrypted), grouped by top-level key. */
function plainConfig(raw: Record<string, any>): Record<string, unknown> {
  const copy = structuredClone(raw);
  for (const secretPath of SECRET_PATHS) {
    const steps = secretPath.split(".");
    const last = steps.pop() as string;
    let node = copy;
    for (const step of steps) node = node[step];
    delete node[last];
  }
  return Object.fromEntries(Object.entries(copy).map(([k, v]) => [`${PROJECT}:${k}`, v]));
}

function valueAt(raw: Record<string, any>, dotted: string): string {
  return dotted.split(".").reduce<any>((node, step) => node[step], raw);
}

async function editStackConfig(edit: (config: Record<string, any>) => void): Promise<void> {
  const ws = stack.workspace;
  const settings = await ws.stackSettings(STACK);
  edit(settings.config as Record<string, any>);
  await ws.saveStackSettings(STACK, settings);
}

/** The live object, or undefined when the API server has none by that name. */
function live(kind: string, name: string, namespace?: string): any {
  const args = ["get", kind, name, "-o", "json", ...(namespace ? ["-n", namespace] : [])];
  const result = server.kubectl(args);
  if (!result.ok) {
    if (/NotFound|not found/.test(result.error)) return undefined;
    throw new Error(`kubectl ${args.join(" ")}: ${result.error}`);
  }
  return JSON.parse(result.stdout);
}

/** Kubernetes objects in the stack's state: kind, name and namespace as the provider created them. */
async function stateObjects(): Promise<
  { type: string; kind: string; name: string; namespace?: string; inputs: any }[]
> {
  const deployment = await stack.exportStack();
  const resources: any[] = deployment.deployment.resources ?? [];
  return resources
    .filter((r) => r.custom && /^kubernetes:[^:]+:[^:]+$/.test(r.type) && !r.type.startsWith("pulumi:"))
    .map((r) => ({
      type: r.type,
      kind: r.outputs.kind,
      name: r.outputs.metadata.name,
      ...(r.outputs.metadata.namespace ? { namespace: r.outputs.metadata.namespace } : {}),
      inputs: r.inputs,
    }));
}

/** Every object of the listed kinds in the stack's namespaces, as "Kind namespace/name". */
function objectsInCluster(): string[] {
  const kinds =
    "configmaps,secrets,serviceaccounts,services,statefulsets,deployments,jobs,cronjobs,poddisruptionbudgets,horizontalpodautoscalers,ingresses";
  return NAMESPACES.flatMap((ns) => {
    const result = server.kubectl(["get", kinds, "-n", ns, "-o", "json"]);
    if (!result.ok) throw new Error(result.error);
    return (JSON.parse(result.stdout).items as any[])
      .filter((item) => !(item.kind === "ServiceAccount" && item.metadata.name === "default"))
      .filter((item) => !(item.kind === "ConfigMap" && item.metadata.name === "kube-root-ca.crt"))
      .map((item) => `${item.kind} ${ns}/${item.metadata.name}`);
  }).sort();
}

const podTemplateOf = (object: any) =>
  object.kind === "CronJob" ? object.spec.jobTemplate.spec.template : object.spec?.template;

/** The fields that matter in a pod template: placement, security, probes, resources and labels. */
function podFields(template: any) {
  const spec = template.spec;
  return {
    labels: template.metadata?.labels ?? {},
    securityContext: spec.securityContext,
    nodeSelector: spec.nodeSelector ?? {},
    tolerations: spec.tolerations ?? [],
    containers: [...(spec.initContainers ?? []), ...spec.containers].map((c: any) => ({
      name: c.name,
      image: c.image,
      securityContext: c.securityContext,
      resources: c.resources ?? {},
      ...(c.readinessProbe ? { readinessProbe: c.readinessProbe } : {}),
      ...(c.livenessProbe ? { livenessProbe: c.livenessProbe } : {}),
      ...(c.startupProbe ? { startupProbe: c.startupProbe } : {}),
    })),
  };
}

beforeAll(async () => {
  tools = await findEngine();
  if (!tools) return;
  server = ApiServer.start();
  const providerDir = execFileSync("bash", [path.join(repoRoot, "scripts/kube.sh"), "provider"], {
    encoding: "utf8",
  }).trim();
  workDir = mkdtempSync(path.join(tmpdir(), "backbone-byo-"));
  stateDir = mkdtempSync(path.join(tmpdir(), "backbone-byo-state-"));
  const raw = rawExistingClusterConfig({
    kubeconfig: readFileSync(server.kubeconfigPath, "utf8"),
    security: openSearchSecurity(workDir),
    skipAwait: true,
  });
  const projectSettings = {
    name: PROJECT,
    runtime: "nodejs",
    backend: { url: `file://${stateDir}` },
    // The provider built here, by path: the engine neither looks up nor downloads a kubernetes plugin.
    plugins: { providers: [{ name: "kubernetes", path: providerDir }] },
  } as ProjectSettings;
  const stackSettings: Record<string, StackSettings> = { [STACK]: { config: plainConfig(raw) as any } };
  stack = await LocalWorkspace.createOrSelectStack(
    {
      stackName: STACK,
      projectName: PROJECT,
      program: async () => (await import("../../stacks/index.js")).runStack(),
    },
    { workDir, pulumiCommand: tools.command, envVars: engineEnv(tools, stateDir), projectSettings, stackSettings },
  );
  const secrets = SECRET_PATHS.map((p) => [`${PROJECT}:${p}`, { value: valueAt(raw, p), secret: true }] as const);
  await stack.setAllConfig(Object.fromEntries(secrets), true);
}, 300_000);

afterAll(async () => {
  if (!tools) return;
  try {
    if (stack) await withCollector(() => stack.destroy()).catch(() => undefined);
  } finally {
    server?.stop();
    rmSync(workDir, { recursive: true, force: true });
    rmSync(stateDir, { recursive: true, force: true });
  }
}, 300_000);

// An engine operation starts the program and the provider each time: tens of seconds on 2 busy cores.
const ENGINE_TIMEOUT = { timeout: 300_000 };

describe("a stack on an existing cluster, through the real engine, provider and API server", ENGINE_TIMEOUT, () => {
  let first: Run;
  let objects: Awaited<ReturnType<typeof stateObjects>>;

  it("goes up with no error and no warning (PodSecurity's among them)", async (ctx) => {
    if (!tools) return ctx.skip();
    first = await up();
    expect(first.errors).toEqual([]);
    expect(first.warnings).toEqual([]);
    objects = await stateObjects();
    expect(objects.map((o) => o.kind).sort()).toEqual(
      expect.arrayContaining(["StatefulSet", "Job", "CronJob", "Deployment", "HorizontalPodAutoscaler", "Ingress"]),
    );
  });

  it("holds every object as the program meant it", async (ctx) => {
    if (!tools) return ctx.skip();
    for (const object of objects) {
      const actual = live(object.kind, object.name, object.namespace);
      expect(actual, `${object.kind} ${object.name}`).toBeDefined();
      const intended = object.inputs;
      expect(actual.metadata.labels ?? {}).toMatchObject(intended.metadata?.labels ?? {});
      if (["Deployment", "StatefulSet", "Job", "CronJob"].includes(object.kind)) {
        expect(podFields(podTemplateOf(actual)), `${object.kind} ${object.name}`).toMatchObject(
          podFields(podTemplateOf(intended)),
        );
      }
      if (object.kind === "Deployment" || object.kind === "StatefulSet" || object.kind === "PodDisruptionBudget") {
        expect(actual.spec.selector).toEqual(intended.spec.selector);
      }
      if (object.kind === "Service") expect(actual.spec.selector).toEqual(intended.spec.selector);
      if (object.kind === "HorizontalPodAutoscaler") {
        expect(actual.spec).toMatchObject({
          minReplicas: intended.spec.minReplicas,
          maxReplicas: intended.spec.maxReplicas,
        });
      }
    }
    for (const ns of NAMESPACES) {
      expect(live("namespace", ns).metadata.labels).toMatchObject(RESTRICTED_NAMESPACE_LABELS);
    }
    // The test-only switch reached the awaited kinds, and only those.
    const sts = objects.find((o) => o.kind === "StatefulSet");
    expect(live("statefulset", sts?.name ?? "", sts?.namespace).metadata.annotations).toMatchObject({
      [SKIP_AWAIT_ANNOTATION]: "true",
    });
    const cm = objects.find((o) => o.kind === "ConfigMap");
    expect(
      live("configmap", cm?.name ?? "", cm?.namespace).metadata.annotations?.[SKIP_AWAIT_ANNOTATION],
    ).toBeUndefined();
    // Nothing else in the stack's namespaces.
    expect(objectsInCluster()).toEqual(
      objects
        .filter((o) => o.namespace)
        .map((o) => `${o.kind} ${o.namespace}/${o.name}`)
        .sort(),
    );
  });

  it("updates after a relevance-profile change: a new setup Job replaces the old, no orphan", async (ctx) => {
    if (!tools) return ctx.skip();
    await editStackConfig((config) => {
      config[`${PROJECT}:relevance`] = { bm25Weight: 0.4, vectorWeight: 0.6 };
    });
    const second = await up();
    expect(second.errors).toEqual([]);
    expect(second.warnings).toEqual([]);
    const before = first.outputs.search.setupJobName;
    const after = second.outputs.search.setupJobName;
    expect(after).not.toBe(before);
    expect(live("job", after, "search")).toBeDefined();
    expect(live("job", before, "search")).toBeUndefined();
    objects = await stateObjects();
    expect(objectsInCluster()).toEqual(
      objects
        .filter((o) => o.namespace)
        .map((o) => `${o.kind} ${o.namespace}/${o.name}`)
        .sort(),
    );
  });

  it("updates after an orchestrator change: the Deployment rolls (a new pod template), no orphan", async (ctx) => {
    if (!tools) return ctx.skip();
    const deployment = objects.find((o) => o.kind === "Deployment");
    const before = live("deployment", deployment?.name ?? "", deployment?.namespace);
    await editStackConfig((config) => {
      config[`${PROJECT}:orchestrator`].logLevel = "debug";
    });
    const third = await up();
    expect(third.errors).toEqual([]);
    expect(third.warnings).toEqual([]);
    const after = live("deployment", deployment?.name ?? "", deployment?.namespace);
    expect(after.metadata.uid).toBe(before.metadata.uid); // updated in place, not replaced
    expect(after.metadata.generation).toBeGreaterThan(before.metadata.generation);
    expect(after.spec.template.metadata.annotations["checksum/config"]).not.toBe(
      before.spec.template.metadata.annotations["checksum/config"],
    );
    objects = await stateObjects();
    expect(objectsInCluster()).toEqual(
      objects
        .filter((o) => o.namespace)
        .map((o) => `${o.kind} ${o.namespace}/${o.name}`)
        .sort(),
    );
  });

  it("refreshes with no drift: preview --refresh --expect-no-changes passes", async (ctx) => {
    if (!tools) return ctx.skip();
    await stack.preview({ refresh: true, expectNoChanges: true });
  });

  it("destroys every object it made", async (ctx) => {
    if (!tools) return ctx.skip();
    await withCollector(() => stack.destroy());
    for (const object of objects.filter((o) => o.kind !== "Namespace")) {
      expect(live(object.kind, object.name, object.namespace), `${object.kind} ${object.name}`).toBeUndefined();
    }
    // Without a controller manager a deleted namespace stays Terminating until its finalizer is cleared:
    // the namespace controller clears it once the namespace is empty, which is checked here first.
    expect(objectsInCluster()).toEqual([]);
    for (const ns of NAMESPACES) {
      expect(live("namespace", ns).metadata.deletionTimestamp).toBeDefined();
      server.finalizeNamespace(ns);
      expect(live("namespace", ns)).toBeUndefined();
    }
  });
});

/**
 * One deliberately invalid object per class, through the same provider into the real API server: each
 * is refused there. The project's own checks catch the first two earlier, in the config (nothing is
 * registered); a root container cannot be configured at all, and the manifests test (stacks.kubernetes
 * .test.ts) admits every pod template as a Pod, which PodSecurity refuses where the controller only warns.
 */
describe(
  "invalid objects are refused by the API server, and by the project's checks first where they can",
  ENGINE_TIMEOUT,
  () => {
    it("an invalid quantity, an HPA whose minimum exceeds its maximum, a root container", async (ctx) => {
      if (!tools) return ctx.skip();
      const raw = rawExistingClusterConfig();
      raw.orchestrator.resources = { requests: { cpu: "1.5.0", memory: "512Mi" }, limits: { memory: "1Gi" } };
      raw.orchestrator.replicas = { min: 4, max: 2 };
      let configError: unknown;
      try {
        loadConfig(raw, { project: PROJECT, stack: STACK });
      } catch (error) {
        configError = error;
      }
      expect(configError).toBeInstanceOf(ConfigError);
      expect((configError as ConfigError).problems.map((p) => p.path.join("."))).toEqual([
        "orchestrator.resources.requests.cpu",
        "orchestrator.replicas.min",
      ]);

      const controlsState = mkdtempSync(path.join(tmpdir(), "backbone-controls-"));
      const controlsWork = mkdtempSync(path.join(tmpdir(), "backbone-controls-work-"));
      const controls = await LocalWorkspace.createOrSelectStack(
        {
          stackName: "controls",
          projectName: "kube-controls",
          program: async () => {
            const provider = new k8s.Provider("cluster", { kubeconfig: readFileSync(server.kubeconfigPath, "utf8") });
            const opts = { provider };
            const skip = { [SKIP_AWAIT_ANNOTATION]: "true" };
            const ns = new k8s.core.v1.Namespace(
              "controls",
              { metadata: { name: "controls", labels: { ...RESTRICTED_NAMESPACE_LABELS }, annotations: skip } },
              opts,
            );
            const namespace = ns.metadata.name;
            const container = { name: "app", image: "registry.example.internal/app:1" };
            const restricted = {
              runAsNonRoot: true,
              seccompProfile: { type: "RuntimeDefault" },
            };
            new k8s.apps.v1.Deployment(
              "bad-quantity",
              {
                metadata: { namespace, annotations: skip },
                spec: {
                  selector: { matchLabels: { app: "q" } },
                  template: {
                    metadata: { labels: { app: "q" } },
                    spec: {
                      securityContext: restricted,
                      containers: [{ ...container, resources: { requests: { cpu: "1.5.0" } } }],
                    },
                  },
                },
              },
              opts,
            );
            new k8s.autoscaling.v2.HorizontalPodAutoscaler(
              "min-above-max",
              {
                metadata: { namespace },
                spec: {
                  scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "q" },
                  minReplicas: 4,
                  maxReplicas: 2,
                },
              },
              opts,
            );
            // The account the controller manager (absent here) would make; admission looks it up first.
            const account = new k8s.core.v1.ServiceAccount(
              "default",
              { metadata: { name: "default", namespace } },
              opts,
            );
            new k8s.core.v1.Pod(
              "root",
              {
                metadata: { namespace, annotations: skip },
                spec: {
                  automountServiceAccountToken: false,
                  containers: [{ ...container, securityContext: { runAsUser: 0 } }],
                },
              },
              { ...opts, dependsOn: [account] },
            );
          },
        },
        {
          workDir: controlsWork,
          pulumiCommand: (tools as EngineTools).command,
          envVars: engineEnv(tools as EngineTools, controlsState),
          projectSettings: {
            name: "kube-controls",
            runtime: "nodejs",
            backend: { url: `file://${controlsState}` },
            plugins: {
              providers: [
                {
                  name: "kubernetes",
                  path: execFileSync("bash", [path.join(repoRoot, "scripts/kube.sh"), "provider"], {
                    encoding: "utf8",
                  }).trim(),
                },
              ],
            },
          } as ProjectSettings,
        },
      );
      try {
        const events: EngineEvent[] = [];
        await expect(controls.up({ continueOnError: true, onEvent: (e) => events.push(e) })).rejects.toThrow();
        const errors = diagnostics(events, "error").join("\n");
        expect(errors).toMatch(/bad-quantity[\s\S]*quantities must match the regular expression/);
        expect(errors).toMatch(/min-above-max[\s\S]*(minReplicas.*maxReplicas|maxReplicas.*minReplicas)/);
        expect(errors).toMatch(/root[\s\S]*violates PodSecurity "restricted/);
      } finally {
        await withCollector(() => controls.destroy()).catch(() => undefined);
        rmSync(controlsState, { recursive: true, force: true });
        rmSync(controlsWork, { recursive: true, force: true });
      }
    });
  },
);
