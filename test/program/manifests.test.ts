import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  apiVersionAndKind,
  autoName,
  type Manifest,
  manifestsOf,
  podsFromTemplates,
  toManifest,
  unwrapSecrets,
} from "../helpers/manifests";
import { runProgram } from "../helpers/program";
import { readRepoFile } from "../helpers/stack-files";

const secret = (value: unknown) => ({ "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value });

describe("unwrapSecrets", () => {
  it("gives back any JSON value wrapped as a secret at any depth", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const plain = JSON.parse(JSON.stringify(value));
        expect(unwrapSecrets(secret(plain))).toEqual(plain);
        expect(unwrapSecrets({ a: [secret(plain)] })).toEqual({ a: [plain] });
      }),
    );
  });

  it("drops undefined fields, as the provider never receives them", () => {
    expect(unwrapSecrets({ a: undefined, b: 1 })).toEqual({ b: 1 });
  });
});

describe("autoName", () => {
  it("is the resource name, a dash and 8 hex characters, the same every run", () => {
    expect(autoName("search-opensearch-admin")).toMatch(/^search-opensearch-admin-[0-9a-f]{8}$/);
    expect(autoName("a")).toBe(autoName("a"));
    expect(autoName("a")).not.toBe(autoName("b"));
  });
});

describe("apiVersionAndKind", () => {
  it("reads core, grouped and custom resource tokens", () => {
    expect(apiVersionAndKind("kubernetes:core/v1:Namespace")).toEqual({ apiVersion: "v1", kind: "Namespace" });
    expect(apiVersionAndKind("kubernetes:apps/v1:Deployment")).toEqual({ apiVersion: "apps/v1", kind: "Deployment" });
    expect(apiVersionAndKind("kubernetes:alibabacloud.com/v1:AlbConfig")).toEqual({
      apiVersion: "alibabacloud.com/v1",
      kind: "AlbConfig",
    });
  });

  it("refuses a token that is not Kubernetes, naming it", () => {
    expect(() => apiVersionAndKind("alicloud:oss/bucket:Bucket")).toThrow(/'alicloud:oss\/bucket:Bucket'/);
  });
});

describe("toManifest", () => {
  it("names an unnamed object as the provider would and keeps a given name", () => {
    const unnamed = toManifest({
      type: "kubernetes:core/v1:Secret",
      name: "tls",
      inputs: { metadata: { namespace: "s" } },
    });
    expect(unnamed).toMatchObject({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: autoName("tls"), namespace: "s" },
    });
    const named = toManifest({
      type: "kubernetes:core/v1:Namespace",
      name: "ns",
      inputs: { metadata: { name: "search" } },
    });
    expect(named.metadata.name).toBe("search");
  });
});

describe("podsFromTemplates", () => {
  const cronJob: Manifest = {
    apiVersion: "batch/v1",
    kind: "CronJob",
    metadata: { name: "ingest", namespace: "search" },
    spec: { jobTemplate: { spec: { template: { metadata: { labels: { a: "b" } }, spec: { containers: [] } } } } },
  };
  const statefulSet: Manifest = {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: { name: "os", namespace: "search" },
    spec: {
      template: { spec: { containers: [], volumes: [{ name: "config" }] } },
      volumeClaimTemplates: [{ metadata: { name: "data" } }],
    },
  };

  it("makes one Pod per pod template, in the workload's namespace, with the template's labels", () => {
    const pods = podsFromTemplates([cronJob, { apiVersion: "v1", kind: "Service", metadata: { name: "x" } }]);
    expect(pods).toEqual([
      {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { labels: { a: "b" }, name: "ingest-cronjob-pod", namespace: "search" },
        spec: { containers: [] },
      },
    ]);
  });

  it("mounts a StatefulSet's claim templates as its controller does", () => {
    const [pod] = podsFromTemplates([statefulSet]);
    expect((pod?.spec as any)?.volumes).toEqual([
      { name: "config" },
      { name: "data", persistentVolumeClaim: { claimName: "data-os-0" } },
    ]);
  });
});

describe("the dev stack's manifests", () => {
  it("name every Secret and ConfigMap that a pod template refers to", async () => {
    const { recorder, error } = await runProgram("dev", readRepoFile("Pulumi.dev.yaml"));
    if (error) throw error;
    const manifests = manifestsOf(recorder.resources);
    expect(manifests[0]?.kind).toBe("Namespace");
    const names = (kind: string) => new Set(manifests.filter((m) => m.kind === kind).map((m) => m.metadata.name));
    const text = JSON.stringify(podsFromTemplates(manifests));
    const refs = (pattern: RegExp) => [...text.matchAll(pattern)].map((m) => m[1]);
    const secretRefs = [
      ...refs(/"secretKeyRef":\{"key":"[^"]+","name":"([^"]+)"/g),
      ...refs(/"secretName":"([^"]+)"/g),
    ];
    expect(secretRefs.length).toBeGreaterThan(0);
    for (const name of secretRefs) expect(names("Secret"), name).toContain(name);
    for (const name of refs(/"configMap":\{[^}]*"name":"([^"]+)"/g)) expect(names("ConfigMap"), name).toContain(name);
  });

  it("label every namespace to enforce PodSecurity restricted (checked for real by test:kubernetes)", async () => {
    const { recorder, error } = await runProgram("dev", readRepoFile("Pulumi.dev.yaml"));
    if (error) throw error;
    const namespaces = manifestsOf(recorder.resources).filter((m) => m.kind === "Namespace");
    expect(namespaces.map((m) => m.metadata.name)).toEqual(["search"]);
    for (const namespace of namespaces) {
      expect(namespace.metadata.labels).toMatchObject({
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/warn": "restricted",
        "pod-security.kubernetes.io/audit": "restricted",
      });
    }
  });
});
