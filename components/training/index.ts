export * from "./code-bundle";
export * from "./commands";
export * from "./pai-dlc-job";
export * from "./training";
