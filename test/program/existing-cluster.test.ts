import { describe, expect, it } from "vitest";
import { AWAITED_KINDS, SKIP_AWAIT_ANNOTATION, skipAwait } from "../../stacks/existing-cluster";
import { existingClusterStackText, FAKE_SECURITY, ORCHESTRATOR_IMAGE } from "../helpers/existing-cluster";
import { manifestsOf } from "../helpers/manifests";
import { runProgram } from "../helpers/program";

const annotationsOf = (inputs: any): Record<string, string> | undefined => inputs.metadata?.annotations;

describe("a stack on an existing cluster (cluster.existing)", () => {
  it("registers only Kubernetes objects, through one provider made from the kubeconfig", async () => {
    const { recorder, error } = await runProgram("platform", existingClusterStackText());
    expect(error).toBeUndefined();
    const custom = recorder.resources.filter((r) => r.custom);
    const packages = new Set(custom.map((r) => r.type.split(":")[0]));
    // No alicloud, docker, random or tls: no Alibaba resource, no image build, no generated secrets.
    expect([...packages].sort()).toEqual(["kubernetes", "pulumi"]); // pulumi: the provider resource
    const providers = recorder.ofType("pulumi:providers:kubernetes");
    expect(providers).toHaveLength(1);
    expect(JSON.stringify(providers[0]?.inputs)).toContain("1b47061264138c4ac30d75fd1eb44270"); // kubeconfig is secret
    const kinds = manifestsOf(recorder.resources).map((m) => m.kind);
    for (const kind of ["StatefulSet", "Job", "CronJob", "Deployment", "HorizontalPodAutoscaler", "Ingress"]) {
      expect(kinds).toContain(kind);
    }
    expect(kinds).not.toContain("AlbConfig");
  });

  it("schedules OpenSearch on the configured nodes and uses the platform's images and credentials", async () => {
    const { recorder } = await runProgram("platform", existingClusterStackText());
    const manifests = manifestsOf(recorder.resources);
    const sts = manifests.find((m) => m.kind === "StatefulSet") as any;
    expect(sts.spec.template.spec.nodeSelector).toEqual({ "example.com/pool": "search" });
    expect(sts.spec.template.spec.tolerations).toEqual([
      { key: "dedicated", value: "search", effect: "NoSchedule", operator: "Equal" },
    ]);
    expect(sts.spec.template.spec.containers[0].image).toBe(
      "registry.example.internal/search/opensearch:3.6.0-smartcn",
    );
    const tls = manifests.find((m) => m.kind === "Secret" && String(m.metadata.name).includes("opensearch-tls")) as any;
    expect(tls.stringData["ca.crt"]).toBe(FAKE_SECURITY.caCert);
    // The engine users get the platform's passwords: nothing is generated off ACK.
    const reader = manifests.find(
      (m) => m.kind === "Secret" && (m as any).stringData?.username === "chunks-reader",
    ) as any;
    expect(reader.stringData.password).toBe("Reader-password-0123456789");
    const deployment = manifests.find((m) => m.kind === "Deployment") as any;
    expect(deployment.spec.template.spec.containers[0].image).toBe(ORCHESTRATOR_IMAGE);
    // No RRSA off ACK: no injection label, no role annotation.
    const namespace = manifests.find((m) => m.kind === "Namespace" && m.metadata.name === "search-backbone") as any;
    expect(Object.keys(namespace.metadata.labels)).not.toContain("pod-identity.alibabacloud.com/injection");
    const ingress = manifests.find((m) => m.kind === "Ingress") as any;
    expect(ingress.spec.ingressClassName).toBe("nginx");
  });

  it("skips the await only with cluster.existing.skipAwait, and only on the kinds the provider awaits", async () => {
    const plain = await runProgram("platform", existingClusterStackText());
    const withAnnotation = (run: typeof plain) =>
      run.recorder.resources
        .filter((r) => annotationsOf(r.inputs)?.[SKIP_AWAIT_ANNOTATION] === "true")
        .map((r) => r.type);
    expect(withAnnotation(plain)).toEqual([]);
    const skipping = await runProgram("platform", existingClusterStackText({ skipAwait: true }));
    const annotated = new Set(withAnnotation(skipping));
    expect([...annotated].sort()).toEqual([...AWAITED_KINDS].sort());
    const awaitedCount = skipping.recorder.resources.filter((r) => AWAITED_KINDS.includes(r.type)).length;
    expect(withAnnotation(skipping)).toHaveLength(awaitedCount);
  });

  it("skipAwait keeps an object's own annotations and leaves other kinds alone", () => {
    const opts = {};
    const ingress = skipAwait({
      type: "kubernetes:networking.k8s.io/v1:Ingress",
      name: "i",
      props: { metadata: { annotations: { a: "1" } }, spec: {} },
      opts,
    } as any);
    expect(ingress?.props).toEqual({
      metadata: { annotations: { a: "1", [SKIP_AWAIT_ANNOTATION]: "true" } },
      spec: {},
    });
    expect(skipAwait({ type: "kubernetes:core/v1:ConfigMap", name: "c", props: {}, opts } as any)).toBeUndefined();
  });
});
