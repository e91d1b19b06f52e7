import type { BackboneConfig, OrchestratorConfig, StackSettings } from "./schema";

/** DashScope's OpenAI-compatible API under a Model Studio base URL. */
const DASHSCOPE_COMPATIBLE_PATH = "/compatible-mode/v1";

/**
 * Fills in what a key leaves to another when unset, so components get effective values and the stack
 * only maps them. Runs on settings that passed the schema and the rules (load.ts).
 */
export function resolveConfig(settings: StackSettings): BackboneConfig {
  return { ...settings, orchestrator: resolveOrchestrator(settings) };
}

function resolveOrchestrator({ orchestrator, serving }: StackSettings): OrchestratorConfig {
  const { enabled, dashscopeBaseUrl, dashscopeApiKey, ...rest } = orchestrator;
  const resolved = {
    ...rest,
    dashscopeBaseUrl: dashscopeBaseUrl ?? `${serving.bailian.baseUrl.replace(/\/$/, "")}${DASHSCOPE_COMPATIBLE_PATH}`,
  };
  const apiKey = dashscopeApiKey ?? serving.bailian.apiKey;
  if (!enabled) return { ...resolved, enabled, ...(apiKey === undefined ? {} : { dashscopeApiKey: apiKey }) };
  // rules.ts reports an enabled orchestrator without either key by config key; this is its invariant.
  if (apiKey === undefined) throw new Error("orchestrator.dashscopeApiKey: unset although the config rules require it");
  return { ...resolved, enabled, dashscopeApiKey: apiKey };
}
