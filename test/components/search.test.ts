import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  engineUsersVersion,
  nodeDnsNames,
  openSearchYml,
  SECURITY_INIT_SCRIPT,
  Search,
  type SearchArgs,
  setupFingerprint,
} from "../../components/search";
import { type MockRecorder, settle, setupMocks } from "../helpers/mocks";
import { ENDPOINTS, PROFILE } from "../search/profile-fixtures";

/** The cluster's provider, as the stack passes it: through the component's opts. */
const kubernetes = (): pulumi.ComponentResourceOptions => ({
  providers: [new k8s.Provider("k8s", { kubeconfig: "{}" })],
});

let mocks: MockRecorder;
beforeEach(async () => {
  mocks = await setupMocks();
});
// Each test gets a fresh mock monitor: let this test's registrations finish first, or they reach
// the next test's monitor, which does not know their resources.
afterEach(async () => {
  await settle();
});

function args(change: Partial<SearchArgs> = {}): SearchArgs {
  return {
    cloudName: "acme-dev",
    profile: PROFILE,
    modelEndpoints: ENDPOINTS,
    indexAlias: "chunks",
    elasticsearch: {
      version: "8.17.0",
      dataNodes: { count: 2, spec: "elasticsearch.sn2ne.large", diskSizeGb: 100, diskPerformanceLevel: "PL1" },
      zoneCount: 1,
      kibanaSpec: "elasticsearch.sn1ne.large",
    },
    opensearch: { nodes: 1, storageGb: 100, diskPerformanceLevel: "PL0", heap: "2g", memory: "4Gi", cpu: "1" },
    ingest: { schedule: "*/30 * * * *", batchSize: 32, concurrency: 2, defaultAccess: "deny" },
    network: { vpcCidr: "10.20.0.0/16", vswitchId: "vsw-a" },
    imageRegistry: "registry-vpc.cn-hangzhou.aliyuncs.com/acme",
    oss: {
      bucket: "acme-dev-docs",
      endpoint: "oss-cn-hangzhou-internal.aliyuncs.com",
      region: "cn-hangzhou",
      prefix: "raw/",
    },
    searchPool: {
      nodeSelector: { workload: "search" },
      tolerations: [{ key: "workload", value: "search", effect: "NoSchedule" }],
    },
    tags: { stack: "dev" },
    protect: false,
    ...change,
  };
}

describe("Search component", () => {
  it("refuses a profile that disagrees with the model endpoints before registering any child", async () => {
    expect(
      () =>
        new Search(
          "search",
          args({ modelEndpoints: { ...ENDPOINTS, embedding: { ...ENDPOINTS.embedding, dims: 1024 } } }),
          kubernetes(),
        ),
    ).toThrow("embedding.dims: given 768; expected the dimension the embedding endpoint serves (1024");
    await settle();
    expect(
      mocks.resources.filter((r) => r.type !== "pulumi:providers:kubernetes" && r.type !== "backbone:search:Search"),
    ).toEqual([]);
  });

  it("writes both engines' rendered relevance summaries where the policy pack reads them", async () => {
    new Search("search", args(), kubernetes());
    await settle();
    const settings = mocks.ofType("kubernetes:core/v1:ConfigMap").find((r) => r.name === "search-jobs-settings");
    const summaries = JSON.parse(settings?.inputs.data["relevance-summaries.json"]);
    expect(summaries.map((s: { engine: string }) => s.engine)).toEqual(["elasticsearch", "opensearch"]);
    const { engine: _es, ...es } = summaries[0];
    const { engine: _os, ...os } = summaries[1];
    expect(os).toEqual(es);
    expect(es).toMatchObject({ bm25Weight: PROFILE.bm25Weight, embeddingDims: PROFILE.embedding.dims });
  });

  it("uses the elastic password from config as a secret and generates only the OpenSearch admin's and the engine users'", async () => {
    new Search(
      "search",
      args({ elasticsearch: { ...args().elasticsearch, password: "Str0ng-Passw0rd" } }),
      kubernetes(),
    );
    await settle();
    expect(
      mocks
        .ofType("random:index/randomPassword:RandomPassword")
        .map((r) => r.name)
        .sort(),
    ).toEqual(["search-jobs-reader-password", "search-jobs-writer-password", "search-opensearch-admin-password"]);
    expect(mocks.one("alicloud:elasticsearch/instance:Instance").inputs.password).toBeDefined();
  });

  it("runs setup as the admins and ingestion as the writer; clients get the reader, never an admin", async () => {
    const search = new Search("search", args(), kubernetes());
    await settle();
    const envOf = (type: string) => {
      const spec = mocks.one(type).inputs.spec;
      const pod = spec.template?.spec ?? spec.jobTemplate.spec.template.spec;
      return Object.fromEntries(
        pod.containers[0].env.map((e: any) => [
          e.name,
          e.value ?? `${e.valueFrom.secretKeyRef.name}/${e.valueFrom.secretKeyRef.key}`,
        ]),
      );
    };
    // Secret names are auto-named `<resource name>-<suffix>`.
    const from = (resource: string, key: string) => expect.stringMatching(new RegExp(`^${resource}-[0-9a-f]+/${key}$`));
    const setup = envOf("kubernetes:batch/v1:Job");
    expect(setup).toMatchObject({
      ELASTICSEARCH_USERNAME: from("search-jobs-elasticsearch", "username"),
      OPENSEARCH_USERNAME: from("search-opensearch-admin", "username"),
      ENGINE_READER_PASSWORD: from("search-jobs-reader", "password"),
      ENGINE_WRITER_PASSWORD: from("search-jobs-writer", "password"),
    });
    const ingest = envOf("kubernetes:batch/v1:CronJob");
    expect(ingest).toMatchObject({
      ELASTICSEARCH_USERNAME: from("search-jobs-writer", "username"),
      ELASTICSEARCH_PASSWORD: from("search-jobs-writer", "password"),
      OPENSEARCH_USERNAME: from("search-jobs-writer", "username"),
      OPENSEARCH_PASSWORD: from("search-jobs-writer", "password"),
    });
    expect(ingest.ENGINE_READER_PASSWORD).toBeUndefined();
    // A secret output: the mock monitor sees the value wrapped.
    const writerData = mocks.one("kubernetes:core/v1:Secret", "search-jobs-writer").inputs.stringData;
    expect(writerData.value ?? writerData).toMatchObject({ username: "chunks-writer" });
    const reader = await new Promise((resolve) =>
      search.clientCredentials.opensearch.password.apply((p) => resolve(p)),
    );
    expect(reader).toBe("mock-password-of-search-jobs-reader-password");
    expect(search.clientCredentials.elasticsearch.username).toBe("chunks-reader");
    expect(search.clientCredentials.opensearch.username).toBe("chunks-reader");
  });

  it("deploys into the cluster its opts name, and refuses without a Kubernetes provider", async () => {
    new Search("search", args(), kubernetes());
    await settle();
    const inCluster = mocks.resources.filter((r) => r.custom && r.type.startsWith("kubernetes:"));
    expect(inCluster.length).toBeGreaterThan(5);
    for (const r of inCluster) expect(r.provider, r.name).toContain("::k8s::");
    mocks.clear();
    expect(() => new Search("bare", args())).toThrow("opts.providers: no Kubernetes provider given");
    await settle();
    expect(mocks.resources.filter((r) => r.custom)).toEqual([]);
  });

  it("refuses data nodes that do not divide over the zones", () => {
    expect(
      () => new Search("search", args({ elasticsearch: { ...args().elasticsearch, zoneCount: 3 } }), kubernetes()),
    ).toThrow("search.elasticsearch.dataNodes.count 2 is not a multiple of zoneCount 3");
  });
});

describe("OpenSearch manifests", () => {
  it("uses single-node discovery for one node and seeds every pod for three", () => {
    expect(openSearchYml("os", "search", 1)).toContain("discovery.type: single-node");
    const three = openSearchYml("os", "search", 3);
    expect(three).toContain('cluster.initial_cluster_manager_nodes: ["os-0", "os-1", "os-2"]');
    expect(three).toContain('discovery.seed_hosts: ["os-headless.search.svc.cluster.local"]');
    expect(three).not.toContain("demo");
  });

  it("certifies the service and every pod behind the headless service", () => {
    expect(nodeDnsNames("os", "search")).toEqual(
      expect.arrayContaining(["os.search.svc", "*.os-headless.search.svc.cluster.local"]),
    );
  });

  it("fingerprints the setup job by profile, endpoints, alias, image and engine users", () => {
    const passwords = { reader: "r".repeat(32), writer: "w".repeat(32) };
    const engineUsers = engineUsersVersion("chunks", passwords);
    const base = { profile: PROFILE, endpoints: ENDPOINTS, indexAlias: "chunks", image: "r/jobs:0.1.0", engineUsers };
    expect(setupFingerprint(base)).toBe(setupFingerprint({ ...base }));
    expect(setupFingerprint({ ...base, image: "r/jobs:0.2.0" })).not.toBe(setupFingerprint(base));
    expect(setupFingerprint({ ...base, profile: { ...PROFILE, rerankWindow: 20 } })).not.toBe(setupFingerprint(base));
    // A rotated password runs setup again; the version names no password.
    const rotated = engineUsersVersion("chunks", { ...passwords, reader: "s".repeat(32) });
    expect(setupFingerprint({ ...base, engineUsers: rotated })).not.toBe(setupFingerprint(base));
    expect(engineUsers).not.toContain("rrrr");
    expect(engineUsersVersion("docs", passwords)).not.toBe(engineUsers);
  });

  it("maps only admin to all_access in the security config (no own_index for every user)", () => {
    expect(SECURITY_INIT_SCRIPT).toContain("cat > /security/roles_mapping.yml <<EOF");
    expect(SECURITY_INIT_SCRIPT).not.toContain("own_index");
  });
});
