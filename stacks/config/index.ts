export * from "./catalog";
export { ConfigError, configKey, type LoadContext, loadConfig } from "./load";
export type { Problem } from "./rules";
export { type BackboneConfig, configSchema, ENVIRONMENTS, type EnvironmentKind, MIN_ZONES } from "./schema";
