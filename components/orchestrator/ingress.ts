import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { attributed } from "../errors";
import { HTTP_PORT } from "./env";
import type { IngressSettings } from "./settings";

/** Intranet-only ALB: the AlbConfig the component's own IngressClass points at. */
export const ALB_CONTROLLER = "ingress.k8s.alibabacloud/alb";

export function albConfigSpec(name: string, vswitchIds: readonly string[]) {
  if (vswitchIds.length < 2) {
    throw new Error(`ingress: given ${vswitchIds.length} vSwitch(es); an ALB needs vSwitches in at least 2 zones`);
  }
  return {
    config: {
      name,
      addressType: "Intranet",
      zoneMappings: vswitchIds.map((vSwitchId) => ({ vSwitchId })),
    },
    listeners: [{ port: 80, protocol: "HTTP" }],
  };
}

/** ALB health checks on the readiness route (ALB Ingress annotations; the default check is HEAD /). */
export const albIngressAnnotations = (): Record<string, string> => ({
  "alb.ingress.kubernetes.io/healthcheck-enabled": "true",
  "alb.ingress.kubernetes.io/healthcheck-path": "/readyz",
  "alb.ingress.kubernetes.io/healthcheck-method": "GET",
  "alb.ingress.kubernetes.io/healthcheck-httpcode": "http_2xx",
});

/**
 * An Ingress on an existing class, or by default on the component's own ALB class whose AlbConfig
 * asks for an intranet ALB (addressType Intranet is fixed at creation:
 * https://www.alibabacloud.com/help/en/ack/distributed-cloud-container-platform-for-kubernetes/user-guide/configure-albconfig-objects).
 */
export function orchestratorIngress(
  name: string,
  ingress: IngressSettings & { readonly vswitchIds: pulumi.Input<string[]> },
  ns: pulumi.Output<string>,
  labels: Record<string, string>,
  service: k8s.core.v1.Service,
  inCluster: pulumi.CustomResourceOptions & { readonly parent: pulumi.Resource },
): void {
  const { parent } = inCluster;
  let className: pulumi.Input<string> | undefined = ingress.className;
  const annotations = ingress.className ? {} : albIngressAnnotations();
  if (!className) {
    const albConfig = new k8s.apiextensions.CustomResource(
      `${name}-alb`,
      {
        apiVersion: "alibabacloud.com/v1",
        kind: "AlbConfig",
        metadata: { labels },
        spec: pulumi
          .output(ingress.vswitchIds)
          .apply((ids) => attributed(parent, () => albConfigSpec(`${name}-intranet`, ids))),
      },
      inCluster,
    );
    const ingressClass = new k8s.networking.v1.IngressClass(
      `${name}-alb-class`,
      {
        metadata: { labels },
        spec: {
          controller: ALB_CONTROLLER,
          parameters: { apiGroup: "alibabacloud.com", kind: "AlbConfig", name: albConfig.metadata.name },
        },
      },
      inCluster,
    );
    className = ingressClass.metadata.name;
  }
  new k8s.networking.v1.Ingress(
    `${name}-ingress`,
    {
      metadata: { namespace: ns, labels, annotations },
      spec: {
        ingressClassName: className,
        rules: [
          {
            host: ingress.host,
            http: {
              paths: [
                {
                  path: "/",
                  pathType: "Prefix",
                  backend: { service: { name: service.metadata.name, port: { number: HTTP_PORT } } },
                },
              ],
            },
          },
        ],
      },
    },
    inCluster,
  );
}
