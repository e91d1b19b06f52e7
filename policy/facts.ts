import type { EnvironmentKind } from "./types";

/**
 * What the rules need to know about the stack being checked. The engine hands a policy pack the
 * stack's configuration in PULUMI_CONFIG (the language host sets it, as for a program), so the
 * environment kind comes from `search-backbone:environment`; a policy's own config (given with
 * --policy-pack-config) overrides it, and a resource's `environment` tag wins over both.
 */
export interface StackFacts {
  readonly environment: EnvironmentKind | undefined;
  /** Ports that may take ingress from 0.0.0.0/0: policy config `publicPorts`. */
  readonly publicPorts: readonly number[];
  /** GPUs the stack may run; policy config `gpuBudget`, else the environment's default. */
  readonly gpuBudget: number;
  /** The stack's relevance profile from its config, when the engine passed one. */
  readonly relevance: { readonly bm25Weight?: number } | undefined;
}

export interface PolicySettings {
  readonly environment?: string;
  readonly publicPorts?: number[];
  readonly gpuBudget?: number;
}

/** GPUs per environment when the policy config sets no budget: one A10 to try things, four in prod. */
export const DEFAULT_GPU_BUDGET: Readonly<Record<EnvironmentKind, number>> = { dev: 1, ephemeral: 1, prod: 4 };

const ENVIRONMENTS: readonly string[] = ["dev", "prod", "ephemeral"];
const asEnvironment = (value: unknown): EnvironmentKind | undefined =>
  typeof value === "string" && ENVIRONMENTS.includes(value) ? (value as EnvironmentKind) : undefined;

/** The stack's configuration as the engine passed it (keys like `search-backbone:environment`). */
export function stackConfig(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const text = env.PULUMI_CONFIG;
  if (!text) return {};
  try {
    return JSON.parse(text);
  } catch {
    return {};
  }
}

function parseObject(text: string | undefined): Record<string, any> | undefined {
  if (!text) return undefined;
  try {
    const value = JSON.parse(text);
    return typeof value === "object" && value !== null ? value : undefined;
  } catch {
    return undefined;
  }
}

export function stackFacts(
  settings: PolicySettings,
  stackTags: ReadonlyMap<string, string>,
  config: Record<string, string> = stackConfig(),
): StackFacts {
  const environment =
    asEnvironment(settings.environment) ??
    asEnvironment(config["search-backbone:environment"]) ??
    asEnvironment(stackTags.get("environment"));
  return {
    environment,
    publicPorts: settings.publicPorts ?? [],
    gpuBudget: settings.gpuBudget ?? DEFAULT_GPU_BUDGET[environment ?? "dev"],
    relevance: parseObject(config["search-backbone:relevance"]),
  };
}

/** A resource's own `environment` tag wins: it is what teardown and cost reports go by. */
export function environmentOf(props: Record<string, any>, facts: StackFacts): EnvironmentKind | undefined {
  return asEnvironment(props?.tags?.environment) ?? facts.environment;
}
