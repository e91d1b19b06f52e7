import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../stacks/config";
import { settle, setupMocks } from "../helpers/mocks";
import { engineConfigFor, readRepoFile } from "../helpers/stack-files";

async function evaluate(stack: string, stackFileText: string) {
  const recorder = await setupMocks({ stack });
  pulumi.runtime.setAllConfig(engineConfigFor(stackFileText));
  const { runStack } = await import("../../stacks/index.js");
  const outputs = runStack();
  await settle();
  return { recorder, outputs };
}

const ES = "alicloud:elasticsearch/instance:Instance";
const STATEFULSET = "kubernetes:apps/v1:StatefulSet";

describe.each([
  ["dev", 1],
  ["prod", 3],
] as const)("stack %s registers the search backbone", (stack, osNodes) => {
  it("a VPC-only Elasticsearch 8.17 instance with encrypted disks, protected in prod", async () => {
    const { recorder } = await evaluate(stack, readRepoFile(`Pulumi.${stack}.yaml`));
    const es = recorder.one(ES);
    const vpcCidr = stack === "prod" ? "10.30.0.0/16" : "10.20.0.0/16";
    expect(es.inputs).toMatchObject({
      version: "8.17.0_with_X-Pack",
      enablePublic: false,
      privateWhitelists: [vpcCidr],
      enableKibanaPublicNetwork: false,
      enableKibanaPrivateNetwork: true,
      kibanaPrivateWhitelists: [vpcCidr],
      dataNodeDiskEncrypted: true,
      dataNodeDiskType: "cloud_essd",
      protocol: "HTTPS",
      dataNodeAmount: stack === "prod" ? 3 : 2,
      zoneCount: stack === "prod" ? 3 : 1,
    });
    expect(es.inputs.publicWhitelists).toBeUndefined();
    expect(es.protect).toBe(stack === "prod");
    expect(recorder.one("random:index/randomPassword:RandomPassword", "elasticsearch-password").protect).toBe(
      stack === "prod",
    );
  });

  it("OpenSearch on the search pool from the stack's ACR, with TLS, a PDB and a cluster-internal service", async () => {
    const { recorder } = await evaluate(stack, readRepoFile(`Pulumi.${stack}.yaml`));
    const sts = recorder.one(STATEFULSET);
    expect(sts.protect).toBe(stack === "prod");
    const spec = sts.inputs.spec;
    expect(spec.replicas).toBe(osNodes);
    const pod = spec.template.spec;
    expect(pod.nodeSelector).toEqual({ workload: "search" });
    expect(pod.tolerations).toEqual([{ key: "workload", value: "search", effect: "NoSchedule", operator: "Equal" }]);
    const images = [...pod.initContainers, ...pod.containers].map((c: any) => c.image);
    // The stack's ACR (its host comes from the registry component), never Docker Hub.
    for (const image of images) {
      expect(image).toMatch(/^[\w.-]*registry[\w.-]*\/acme-search\/opensearch:3\.6\.0-smartcn$/);
      expect(image).not.toMatch(/docker\.io|^opensearchproject\//);
    }
    expect(pod.containers[0].env).toContainEqual({ name: "DISABLE_INSTALL_DEMO_CONFIG", value: "true" });
    expect(spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe(stack === "prod" ? "500Gi" : "100Gi");
    const storageClass = recorder.one("kubernetes:storage.k8s.io/v1:StorageClass");
    expect(storageClass.inputs.parameters).toMatchObject({ type: "cloud_essd", encrypted: "true" });
    expect(recorder.one("kubernetes:policy/v1:PodDisruptionBudget").inputs.spec.maxUnavailable).toBe(1);
    const services = recorder.ofType("kubernetes:core/v1:Service").map((s) => s.inputs.spec);
    expect(services.map((s) => s.type ?? "ClusterIP")).toEqual(["ClusterIP", "ClusterIP"]);
    const config = recorder.one("kubernetes:core/v1:ConfigMap", "opensearch-config").inputs.data["opensearch.yml"];
    expect(config).toContain("plugins.security.ssl.http.enabled: true");
    expect(recorder.ofType("tls:index/locallySignedCert:LocallySignedCert")).toHaveLength(2);
  });

  it("the setup Job (named by the profile's hash) and the ingestion CronJob", async () => {
    const { recorder } = await evaluate(stack, readRepoFile(`Pulumi.${stack}.yaml`));
    const job = recorder.one("kubernetes:batch/v1:Job");
    expect(job.inputs.metadata.name).toMatch(/^search-setup-[0-9a-f]{8}$/);
    expect(job.inputs.spec.template.spec.containers[0].args).toEqual(["setup"]);
    const cron = recorder.one("kubernetes:batch/v1:CronJob");
    expect(cron.inputs.spec).toMatchObject({ schedule: "*/30 * * * *", concurrencyPolicy: "Forbid" });
    // Documents without a permission sidecar are readable by nobody unless the stack says otherwise.
    const ingestEnv = cron.inputs.spec.jobTemplate.spec.template.spec.containers[0].env;
    expect(ingestEnv).toContainEqual({ name: "DEFAULT_ACCESS", value: "deny" });
    const settings = recorder.one("kubernetes:core/v1:ConfigMap", "jobs-settings").inputs.data;
    expect(JSON.parse(settings["profile.json"]).embedding.dims).toBe(stack === "prod" ? 1024 : 768);
    // dev embeds with a Chinese model, so its BM25 half segments Chinese words as well.
    expect(JSON.parse(settings["profile.json"])).toMatchObject(
      stack === "prod" ? { analyzer: "standard" } : { embedding: { model: "bge-base-zh-v1.5" }, analyzer: "smartcn" },
    );
  });
});

describe("the setup Job runs again when the profile changes", () => {
  it("renames the Job for new weights, and keeps the name for an unchanged profile", async () => {
    const base = readRepoFile("Pulumi.dev.yaml");
    const name = async (text: string) =>
      (await evaluate("dev", text)).recorder.one("kubernetes:batch/v1:Job").inputs.metadata.name;
    const first = await name(base);
    expect(await name(base)).toBe(first);
    const changed = base
      .replace("bm25Weight: 0.3", "bm25Weight: 0.4")
      .replace("vectorWeight: 0.7", "vectorWeight: 0.6");
    expect(await name(changed)).not.toBe(first);
  });
});

describe("bad search input stops the program before anything is registered", () => {
  it.each([
    [
      "weights that do not sum to 1",
      (t: string) => t.replace("vectorWeight: 0.7", "vectorWeight: 0.8"),
      "relevance.vectorWeight",
      "expected bm25Weight + vectorWeight to sum to 1, got 0.3 + 0.8 = 1.1",
    ],
    [
      "an analyzer one engine lacks",
      (t: string) => t.replace("analyzer: smartcn", "analyzer: ik_smart"),
      "relevance.analyzer",
      "expected an analyzer both engines have; opensearch lacks it",
    ],
  ])("%s", async (_case, edit, path, message) => {
    const recorder = await setupMocks({ stack: "dev" });
    pulumi.runtime.setAllConfig(engineConfigFor(edit(readRepoFile("Pulumi.dev.yaml"))));
    const { runStack } = await import("../../stacks/index.js");
    let error: unknown;
    try {
      runStack();
    } catch (caught) {
      error = caught;
    }
    await settle();
    expect(error).toBeInstanceOf(ConfigError);
    const problem = (error as ConfigError).problems.find((p) => p.path.join(".") === path);
    expect(problem?.message).toBe(message);
    expect((error as Error).message).toContain(`search-backbone:${path}: given`);
    expect(recorder.resources).toEqual([]);
  });
});
