export * from "./build-context";
export * from "./orchestrator";
export * from "./settings";
