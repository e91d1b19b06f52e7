import * as pulumi from "@pulumi/pulumi";

/**
 * Runs a pure computation for `resource` and re-raises what it throws as a ResourceError on it, so
 * the CLI attributes the failure to the component (as pulumi-eks does) rather than printing a bare
 * stack trace. Use it in constructors and inside `apply`, where a plain Error loses the resource.
 */
export function attributed<T>(resource: pulumi.Resource, compute: () => T): T {
  try {
    return compute();
  } catch (err) {
    if (err instanceof pulumi.ResourceError) throw err;
    throw new pulumi.ResourceError(err instanceof Error ? err.message : String(err), resource);
  }
}

/**
 * Components that deploy into a cluster take its provider through `opts.providers` (or a parent's).
 * Without one, Kubernetes resources would go to whatever cluster the ambient kubeconfig names.
 */
export function requireKubernetesProvider(component: pulumi.ComponentResource): void {
  if (component.getProvider("kubernetes:core/v1:Namespace") === undefined) {
    throw new pulumi.ResourceError(
      "opts.providers: no Kubernetes provider given; expected the cluster's (the Cluster component's `provider`)",
      component,
    );
  }
}
