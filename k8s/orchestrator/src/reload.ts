import { unwatchFile, watchFile } from "node:fs";
import { type ModelEndpoints, profileProblems, type RelevanceProfile } from "@search-backbone/relevance";
import { loadModelFiles } from "./config";

/**
 * The model files reloaded while the service runs. A retrained embedding model is served as a new
 * version, written into a new profile and endpoints pair, and indexed into a new index generation
 * (k8s/backbone); the service must then embed queries with it, or its kNN would be skipped on the new
 * index (indices.ts `vectorFits`). Restarting would drop requests, so the service watches the two
 * files (PROFILE_FILE and ENDPOINTS_FILE; polling, which also sees a ConfigMap volume's symlink swap)
 * and applies a new pair only when it is complete and consistent: both files valid as at start-up and
 * the profile's embedding model the one the endpoint serves (the backbone's setup rule). A pair
 * caught half-written keeps the running configuration until the next change.
 */

export interface ModelConfig {
  readonly profile: RelevanceProfile;
  readonly endpoints: ModelEndpoints;
}

export type ReloadOutcome =
  | { readonly kind: "unchanged" }
  | { readonly kind: "applied"; readonly config: ModelConfig }
  | { readonly kind: "rejected"; readonly problems: readonly string[] };

/** What a change of the files means: the next configuration, nothing, or why it was not taken. */
export function reloadModelConfig(current: ModelConfig, read: () => ModelConfig): ReloadOutcome {
  let next: ModelConfig;
  try {
    next = read();
  } catch (error) {
    const problems = (error as { problems?: string[] }).problems ?? [(error as Error).message];
    return { kind: "rejected", problems };
  }
  const problems = profileProblems(next.profile, next.endpoints).map(
    (p) => `PROFILE_FILE ${p.field}: given ${JSON.stringify(p.value)}; expected ${p.expected}`,
  );
  if (problems.length > 0) return { kind: "rejected", problems };
  if (JSON.stringify(next) === JSON.stringify(current)) return { kind: "unchanged" };
  return { kind: "applied", config: next };
}

export interface ModelFileWatch {
  close(): void;
}

export function watchModelFiles(options: {
  readonly profileFile: string;
  readonly endpointsFile: string;
  readonly current: ModelConfig;
  readonly apply: (config: ModelConfig) => void;
  readonly log: { info: (obj: object, msg: string) => void; warn: (obj: object, msg: string) => void };
  readonly intervalMs?: number;
}): ModelFileWatch {
  let current = options.current;
  const onChange = () => {
    const outcome = reloadModelConfig(current, () => loadModelFiles(options.profileFile, options.endpointsFile));
    if (outcome.kind === "rejected") {
      options.log.warn(
        { problems: outcome.problems },
        "model files changed but are not a usable pair; keeping the running ones",
      );
    } else if (outcome.kind === "applied") {
      const before = current;
      current = outcome.config;
      options.apply(current);
      options.log.info(
        {
          embedding: { from: before.endpoints.embedding.model, to: current.endpoints.embedding.model },
          rerank: { from: before.endpoints.rerank.model, to: current.endpoints.rerank.model },
        },
        "model files reloaded",
      );
    }
  };
  const watch = { interval: options.intervalMs ?? 1000, persistent: false };
  watchFile(options.profileFile, watch, onChange);
  watchFile(options.endpointsFile, watch, onChange);
  return {
    close: () => {
      unwatchFile(options.profileFile, onChange);
      unwatchFile(options.endpointsFile, onChange);
    },
  };
}
