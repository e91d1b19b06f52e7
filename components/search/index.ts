export * from "./elasticsearch";
export * from "./jobs";
export * from "./opensearch";
export * from "./opensearch-manifests";
export * from "./search";
