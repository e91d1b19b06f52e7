/**
 * The relevance-profile renderers and the fusion module live in the in-cluster package
 * (k8s/backbone/src/profile), which must build into its own image without this repository's root;
 * they are pure and dependency-free, so the Pulumi program imports the very same files from here.
 */
export * from "../../k8s/backbone/src/profile";
