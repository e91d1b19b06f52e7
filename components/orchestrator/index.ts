export * from "./api-keys";
export * from "./build-context";
export * from "./env";
export * from "./image";
export * from "./ingress";
export * from "./orchestrator";
export * from "./pod-spec";
export * from "./settings";
