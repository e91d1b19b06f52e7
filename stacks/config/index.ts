export * from "./catalog";
export { ConfigError, configKey, type LoadContext, loadConfig } from "./load";
export { resolveConfig } from "./resolve";
export type { Problem } from "./rules";
export {
  type BackboneConfig,
  configSchema,
  ENVIRONMENTS,
  type EnvironmentKind,
  MIN_ZONES,
  type OrchestratorConfig,
  type StackSettings,
} from "./schema";
