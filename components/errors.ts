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
