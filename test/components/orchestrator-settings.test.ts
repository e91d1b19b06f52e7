import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { ORCHESTRATOR_ENV, ORCHESTRATOR_REQUIRED_ENV } from "@search-backbone/relevance";
import { describe, expect, it } from "vitest";
import {
  albConfigSpec,
  apiKeysFile,
  configChecksum,
  containerResources,
  containerSecurityContext,
  FILES,
  hpaSpec,
  imageTag,
  MOUNTS,
  ORCHESTRATOR_CONTEXT_INPUTS,
  orchestratorBuildContext,
  orchestratorEnv,
  orchestratorLabels,
  orchestratorSecretEnv,
  pdbSpec,
  podSecurityContext,
  probes,
  pullReference,
  selectorLabels,
  sha256Hex,
  spreadConstraints,
  terminationGraceSeconds,
} from "../../components/orchestrator";
import { repoRoot } from "../helpers/stack-files";
import { SETTINGS } from "./orchestrator-fixtures";

const ENV_INPUT = {
  indexAlias: "chunks",
  elasticsearchUrl: "https://es-cn-abc.elasticsearch.aliyuncs.com:9200",
  opensearchUrl: "https://search-opensearch.search.svc:9200",
  oss: { bucket: "acme-dev-docs", region: "cn-hangzhou", endpoint: "oss-cn-hangzhou-internal.aliyuncs.com" },
  eventLogPrefixes: { events: "logs/events/", recs: "logs/recs-events/", chat: "logs/chat/" },
  rawPrefix: "raw/",
  settings: SETTINGS,
};

/** Every optional setting given, so the contract check covers the variables they add. */
const TUNED = {
  ...SETTINGS,
  upstreamIdleTimeoutMs: 15_000,
  dependencyLimits: { engineInFlight: 16, modelInFlight: 24, queue: 32 },
};

describe("orchestratorEnv", () => {
  it("sets only variables the service reads, and every one it requires without a default", () => {
    const env = orchestratorEnv({ ...ENV_INPUT, settings: TUNED });
    const secrets = orchestratorSecretEnv({
      dashscopeApiKey: "sk-test",
      elasticsearch: { username: "elastic", password: "p1" },
      opensearch: { username: "admin", password: "p2" },
      modelApiKey: "sk-model",
    });
    const known = new Set<string>(ORCHESTRATOR_ENV);
    expect(known.size).toBeGreaterThan(40);
    const set = [...Object.keys(env), ...Object.keys(secrets)];
    expect(set.filter((name) => !known.has(name))).toEqual([]);
    for (const required of ORCHESTRATOR_REQUIRED_ENV) {
      expect(set, required).toContain(required);
    }
    // Optional to the service (without the key it answers extractively); the cloud deployment answers with the LLM.
    for (const chat of ["DASHSCOPE_API_KEY", "DASHSCOPE_BASE_URL", "CHAT_MODEL"]) expect(set, chat).toContain(chat);
  });

  it("points the files at the mounts, keeps the event log under logs/ and AIRec off without an instance", () => {
    const env = orchestratorEnv(ENV_INPUT);
    expect(env).toMatchObject({
      PROFILE_FILE: `${MOUNTS.config}/${FILES.profile}`,
      ENDPOINTS_FILE: `${MOUNTS.config}/${FILES.endpoints}`,
      OPENSEARCH_CA_FILE: `${MOUNTS.config}/${FILES.opensearchCa}`,
      API_KEYS_FILE: `${MOUNTS.secrets}/${FILES.apiKeys}`,
      EVENT_LOG_PREFIX: "logs/events/",
      EVENT_LOG_RECS_PREFIX: "logs/recs-events/",
      CHAT_LOG_ENABLED: "true",
      CHAT_LOG_PREFIX: "logs/chat/",
      OSS_BUCKET: "acme-dev-docs",
      AIREC_ENABLED: "false",
      PORT: "8080",
      SHUTDOWN_GRACE_MS: "10000",
    });
    expect(env.AIREC_INSTANCE_ID).toBeUndefined();
    expect(orchestratorEnv({ ...ENV_INPUT, settings: { ...SETTINGS, chatLog: false } }).CHAT_LOG_ENABLED).toBe("false");
    for (const value of Object.values(env)) expect(typeof value).toBe("string");
  });

  it("accepts JWTs only when the stack names an identity provider", () => {
    const jwt = { issuer: "https://idp.example.com/", audience: "search", jwksUrl: "https://idp.example.com/jwks" };
    const withJwt = orchestratorEnv({ ...ENV_INPUT, settings: { ...ENV_INPUT.settings, jwt } });
    expect(withJwt).toMatchObject({
      JWT_ISSUER: jwt.issuer,
      JWT_AUDIENCE: jwt.audience,
      JWT_JWKS_URL: jwt.jwksUrl,
    });
    expect(withJwt.JWT_GROUPS_CLAIM).toBeUndefined(); // the service's default, "groups"
    const claims = { ...jwt, userClaim: "email", groupsClaim: "roles" };
    expect(orchestratorEnv({ ...ENV_INPUT, settings: { ...ENV_INPUT.settings, jwt: claims } })).toMatchObject({
      JWT_USER_CLAIM: "email",
      JWT_GROUPS_CLAIM: "roles",
    });
    expect(Object.keys(orchestratorEnv(ENV_INPUT)).filter((k) => k.startsWith("JWT_"))).toEqual([]);
  });

  it("passes the idle timeout and the dependency limits when set, and leaves the service's defaults otherwise", () => {
    expect(orchestratorEnv({ ...ENV_INPUT, settings: TUNED })).toMatchObject({
      UPSTREAM_IDLE_TIMEOUT_MS: "15000",
      ENGINE_MAX_IN_FLIGHT: "16",
      MODEL_MAX_IN_FLIGHT: "24",
      DEPENDENCY_QUEUE_LENGTH: "32",
    });
    const plain = orchestratorEnv(ENV_INPUT);
    for (const name of [
      "UPSTREAM_IDLE_TIMEOUT_MS",
      "ENGINE_MAX_IN_FLIGHT",
      "MODEL_MAX_IN_FLIGHT",
      "DEPENDENCY_QUEUE_LENGTH",
    ] as const)
      expect(plain[name], name).toBeUndefined();
  });

  it("turns AIRec on with its endpoint, instance and scene", () => {
    const env = orchestratorEnv({
      ...ENV_INPUT,
      airec: { instanceId: "airec-cn-1", sceneId: "home", endpoint: "airec-vpc.cn-hangzhou.aliyuncs.com" },
    });
    expect(env).toMatchObject({
      AIREC_ENABLED: "true",
      AIREC_INSTANCE_ID: "airec-cn-1",
      AIREC_SCENE_ID: "home",
      AIREC_ENDPOINT: "airec-vpc.cn-hangzhou.aliyuncs.com",
    });
  });

  it("refuses an event-log prefix that is not a folder", () => {
    expect(() =>
      orchestratorEnv({ ...ENV_INPUT, eventLogPrefixes: { events: "logs/events", recs: "logs/r/", chat: "logs/c/" } }),
    ).toThrow('eventLogPrefixes.events: given "logs/events"; expected a folder/');
    expect(() =>
      orchestratorEnv({ ...ENV_INPUT, eventLogPrefixes: { events: "logs/e/", recs: "logs/r/", chat: "logs/chat" } }),
    ).toThrow('eventLogPrefixes.chat: given "logs/chat"; expected a folder/');
  });

  it("leaves MODEL_API_KEY out when no endpoint needs one", () => {
    const secrets = orchestratorSecretEnv({
      dashscopeApiKey: "sk-test",
      elasticsearch: { username: "elastic", password: "p1" },
      opensearch: { username: "admin", password: "p2" },
    });
    expect(Object.keys(secrets).sort()).toEqual([
      "DASHSCOPE_API_KEY",
      "ELASTICSEARCH_PASSWORD",
      "ELASTICSEARCH_USERNAME",
      "OPENSEARCH_PASSWORD",
      "OPENSEARCH_USERNAME",
    ]);
  });
});

describe("apiKeysFile", () => {
  const hash = sha256Hex("a-random-key");

  it("renders the file the service parses, with hashes only", () => {
    expect(sha256Hex("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const file = apiKeysFile([
      { id: "web", sha256: hash, ratePerMinute: 120 },
      { id: "batch", sha256: hash },
      { id: "portal", sha256: hash, groups: ["finance", "hr"], onBehalfOf: true },
      { id: "old", sha256: hash, groups: [], onBehalfOf: false },
    ]);
    expect(JSON.parse(file)).toEqual([
      { id: "web", sha256: hash, ratePerMinute: 120 },
      { id: "batch", sha256: hash },
      { id: "portal", sha256: hash, groups: ["finance", "hr"], onBehalfOf: true },
      { id: "old", sha256: hash },
    ]);
    expect(file).not.toContain("a-random-key");
  });
});

describe("pod spec pieces", () => {
  it("probes: liveness /healthz, readiness /readyz, a startup probe that allows two minutes", () => {
    const p = probes(8080);
    expect(p.livenessProbe.httpGet).toEqual({ path: "/healthz", port: 8080 });
    expect(p.readinessProbe.httpGet).toEqual({ path: "/readyz", port: 8080 });
    expect(p.startupProbe.httpGet.path).toBe("/healthz");
    expect(p.startupProbe.periodSeconds * p.startupProbe.failureThreshold).toBe(120);
  });

  it("security contexts: non-root uid 1000, read-only root, no capabilities, RuntimeDefault seccomp", () => {
    expect(podSecurityContext()).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 1000,
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(containerSecurityContext()).toMatchObject({
      runAsNonRoot: true,
      allowPrivilegeEscalation: false,
      privileged: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
    });
  });

  it("termination grace exceeds the service's drain by the preStop pause and a margin", () => {
    expect(terminationGraceSeconds(10000, 5)).toBe(20);
    expect(terminationGraceSeconds(10500, 5) * 1000).toBeGreaterThan(10500 + 5000);
  });

  it("resources: no CPU limit unless configured", () => {
    expect(containerResources(SETTINGS.resources)).toEqual({
      requests: { cpu: "500m", memory: "512Mi" },
      limits: { memory: "1Gi" },
    });
    expect(containerResources({ ...SETTINGS.resources, limits: { cpu: "2", memory: "1Gi" } }).limits).toEqual({
      cpu: "2",
      memory: "1Gi",
    });
  });

  it("labels: the selector is the stable subset (no version)", () => {
    const labels = orchestratorLabels("orchestrator", "0.1.0-abc");
    expect(labels).toMatchObject(selectorLabels("orchestrator"));
    expect(selectorLabels("orchestrator")).not.toHaveProperty("app.kubernetes.io/version");
  });

  it("spreads over zones, then nodes, softly", () => {
    const constraints = spreadConstraints(selectorLabels("o"));
    expect(constraints.map((c) => c.topologyKey)).toEqual(["topology.kubernetes.io/zone", "kubernetes.io/hostname"]);
    for (const c of constraints) expect(c.whenUnsatisfiable).toBe("ScheduleAnyway");
  });

  it("PDB keeps all but one up, and never blocks a drain with a single replica", () => {
    expect(pdbSpec(3, { a: "b" })).toEqual({ minAvailable: 2, selector: { matchLabels: { a: "b" } } });
    expect(pdbSpec(1, { a: "b" })).toEqual({ maxUnavailable: 1, selector: { matchLabels: { a: "b" } } });
  });

  it("HPA on CPU between min and max (the config rules refuse min above max)", () => {
    const spec = hpaSpec("orchestrator", SETTINGS);
    expect(spec).toMatchObject({ minReplicas: 2, maxReplicas: 6, scaleTargetRef: { kind: "Deployment" } });
    expect(spec.metrics[0]?.resource.target.averageUtilization).toBe(70);
  });

  it("checksum changes with any value and not with key order", () => {
    const a = configChecksum({ A: "1", B: "2" }, { S: "x" });
    expect(configChecksum({ B: "2", A: "1" }, { S: "x" })).toBe(a);
    expect(configChecksum({ A: "1", B: "2" }, { S: "y" })).not.toBe(a);
    expect(a).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe("image", () => {
  const digest = `sha256:${"0f".repeat(32)}`;

  it("runs the pushed digest from the VPC host", () => {
    expect(
      pullReference(
        "registry-vpc.cn-hangzhou.aliyuncs.com/acme/orchestrator",
        `registry.cn-hangzhou.aliyuncs.com/acme/orchestrator@${digest}`,
      ),
    ).toBe(`registry-vpc.cn-hangzhou.aliyuncs.com/acme/orchestrator@${digest}`);
    expect(() => pullReference("r/a/b", "registry.cn-hangzhou.aliyuncs.com/acme/orchestrator:0.1.0")).toThrow(
      "expected <repository>@sha256:<64 hex>",
    );
  });

  it("tags by version and content: same files same tag, any change a new tag", () => {
    const files = [
      { path: "orchestrator/src/a.ts", content: "a" },
      { path: "backbone/src/b.ts", content: "b" },
    ];
    const tag = imageTag("0.1.0", files);
    expect(tag).toMatch(/^0\.1\.0-[0-9a-f]{12}$/);
    expect(imageTag("0.1.0", [...files].reverse())).toBe(tag);
    expect(imageTag("0.1.0", [files[0]!, { path: "backbone/src/b.ts", content: "c" }])).not.toBe(tag);
    expect(() => imageTag("../x", files)).toThrow('image version: given "../x"');
  });

  it("the build context is the repository root with the orchestrator's Dockerfile, tagged with its package version", () => {
    const build = orchestratorBuildContext(repoRoot);
    expect(build.context).toBe(".");
    expect(build.dockerfile).toBe("k8s/orchestrator/Dockerfile");
    const { version } = JSON.parse(readFileSync(path.join(repoRoot, "k8s/orchestrator/package.json"), "utf8"));
    expect(build.tag.startsWith(`${version}-`)).toBe(true);
    expect(readFileSync(path.join(repoRoot, build.dockerfile), "utf8")).toContain(
      "RUN npm ci --workspace=k8s/orchestrator",
    );
  });

  it("hashes exactly what the Dockerfile copies from its context, and sends nothing else", () => {
    const dockerfile = readFileSync(path.join(repoRoot, "k8s/orchestrator/Dockerfile"), "utf8");
    const copied = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1]!.split(" "));
    const hashed = ORCHESTRATOR_CONTEXT_INPUTS.filter(
      (input) => !input.endsWith(".dockerignore") && !input.endsWith("/Dockerfile"),
    );
    expect(new Set(copied)).toEqual(new Set(hashed));
    const ignore = readFileSync(path.join(repoRoot, "k8s/orchestrator/Dockerfile.dockerignore"), "utf8");
    const sent = [...ignore.matchAll(/^!(.+)$/gm)].map((m) => m[1]);
    expect(new Set(sent)).toEqual(new Set(hashed));
  });

  it("a change to a shared package's source makes a new tag", () => {
    const copy = mkdtempSync(path.join(tmpdir(), "orchestrator-context-"));
    for (const input of ORCHESTRATOR_CONTEXT_INPUTS) {
      cpSync(path.join(repoRoot, input), path.join(copy, input), { recursive: true });
    }
    const before = orchestratorBuildContext(copy).tag;
    expect(before).toBe(orchestratorBuildContext(repoRoot).tag);
    appendFileSync(path.join(copy, "packages/relevance/src/fusion.ts"), "\n");
    expect(orchestratorBuildContext(copy).tag).not.toBe(before);
    rmSync(copy, { recursive: true, force: true });
  });
});

describe("albConfigSpec", () => {
  it("asks for an intranet ALB over the given vSwitches", () => {
    expect(albConfigSpec("o-intranet", ["vsw-a", "vsw-b"])).toEqual({
      config: {
        name: "o-intranet",
        addressType: "Intranet",
        zoneMappings: [{ vSwitchId: "vsw-a" }, { vSwitchId: "vsw-b" }],
      },
      listeners: [{ port: 80, protocol: "HTTP" }],
    });
    expect(() => albConfigSpec("o", ["vsw-a"])).toThrow("an ALB needs vSwitches in at least 2 zones");
  });
});
