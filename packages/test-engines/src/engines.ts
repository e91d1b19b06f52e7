import { execFileSync } from "node:child_process";
import * as path from "node:path";
import {
  type ElasticsearchClient,
  elasticsearchClient,
  type OpenSearchClient,
  openSearchClient,
} from "@search-backbone/engines";

/**
 * The repository's engine script (packages/test-engines/{src,dist} -> repository root): the one way the
 * suites start, find and stop their nodes, so they share its download cache and ports.
 */
export const ENGINES_SCRIPT = path.resolve(__dirname, "../../../scripts/engines.sh");

export interface Engines {
  readonly es: ElasticsearchClient;
  readonly os: OpenSearchClient;
  readonly startedHere: boolean;
  readonly startSeconds: number;
}

/**
 * Real engines for the suite: the URLs in ELASTICSEARCH_URL / OPENSEARCH_URL, or nodes started by
 * scripts/engines.sh (downloads cached). Under CI=true an engine that cannot be had fails the suite;
 * elsewhere the suite skips.
 */
export async function acquireEngines(): Promise<Engines | undefined> {
  let esUrl = process.env.ELASTICSEARCH_URL;
  let osUrl = process.env.OPENSEARCH_URL;
  let startedHere = false;
  const started = performance.now();
  if (!esUrl || !osUrl) {
    try {
      const running = execFileSync("bash", [ENGINES_SCRIPT, "env"], { encoding: "utf8" });
      if (!/ELASTICSEARCH_URL/.test(running) || !/OPENSEARCH_URL/.test(running)) {
        execFileSync("bash", [ENGINES_SCRIPT, "start", "all"], {
          stdio: ["ignore", "inherit", "inherit"],
          timeout: 900_000,
        });
        startedHere = true;
      }
      const env = execFileSync("bash", [ENGINES_SCRIPT, "env"], { encoding: "utf8" });
      esUrl = /ELASTICSEARCH_URL=(\S+)/.exec(env)?.[1];
      osUrl = /OPENSEARCH_URL=(\S+)/.exec(env)?.[1];
    } catch (error) {
      if (process.env.CI === "true")
        throw new Error(`search engines could not be started: ${(error as Error).message}`);
      return undefined;
    }
  }
  if (!esUrl || !osUrl) {
    if (process.env.CI === "true") throw new Error("search engines are not running and could not be started");
    return undefined;
  }
  return {
    es: elasticsearchClient({ url: esUrl }),
    os: openSearchClient({ url: osUrl }),
    startedHere,
    startSeconds: (performance.now() - started) / 1000,
  };
}

export function stopEngines(): void {
  execFileSync("bash", [ENGINES_SCRIPT, "stop", "all"], { stdio: "inherit" });
}
