/**
 * What a dynamic provider's API functions take from their surroundings: the environment (endpoints
 * and credentials, never resource inputs), where progress lines go, and the clock that polling uses.
 * Each is optional: the provider methods pass nothing and get the process's own; tests pass a fake
 * clock, a fake's endpoint and a line collector.
 */

export type Progress = (line: string) => void;

export interface Clock {
  readonly sleep: (ms: number) => Promise<void>;
  readonly now: () => number;
}

export interface ProviderContext {
  readonly env?: Record<string, string | undefined>;
  readonly progress?: Progress;
  readonly sleep?: Clock["sleep"];
  readonly now?: Clock["now"];
}

export interface ResolvedContext extends Clock {
  readonly env: Record<string, string | undefined>;
  readonly progress: Progress;
}

/**
 * The context with every default filled in. Defaults are built here, at call time, because dynamic
 * providers are serialized by value: a module-level default would be captured as a copy.
 */
export function resolveContext(ctx: ProviderContext = {}): ResolvedContext {
  return {
    env: ctx.env ?? process.env,
    // The engine shows a provider's stderr to the operator; stdout belongs to its RPC.
    progress: ctx.progress ?? ((line: string) => process.stderr.write(`${line}\n`)),
    sleep: ctx.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))),
    now: ctx.now ?? Date.now,
  };
}
