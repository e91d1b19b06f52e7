import type { ElasticsearchClient, OpenSearchClient } from "@search-backbone/engines";
import { quoting } from "@search-backbone/engines";
import type { ModelClient } from "@search-backbone/relevance";
import {
  assertValidProfile,
  type ConnectorAuth,
  FIELDS,
  type ModelEndpoints,
  type RelevanceProfile,
} from "@search-backbone/relevance";
import { type ElasticsearchSetup, setupElasticsearch } from "./elasticsearch";
import { type OpenSearchSetup, setupOpenSearch } from "./opensearch";
import { type EngineUserPasswords, type EngineUsersResult, setupEngineUsers } from "./users";

export interface SetupOptions {
  readonly base: string;
  readonly profile: RelevanceProfile;
  readonly endpoints: ModelEndpoints;
  readonly auth?: ConnectorAuth;
  readonly replicas?: { readonly elasticsearch?: number; readonly opensearch?: number };
  /** The reader's and writer's passwords: setup then makes (or updates) both users on both engines. */
  readonly users?: EngineUserPasswords;
  readonly log?: (line: string) => void;
}

export interface SetupResult {
  readonly elasticsearch: ElasticsearchSetup;
  readonly opensearch: OpenSearchSetup;
  readonly warmup: { readonly elasticsearch: WarmupResult; readonly opensearch: WarmupResult };
  readonly users?: EngineUsersResult;
}

export interface WarmupResult {
  readonly vectorMs: number;
  readonly bm25Ms: number;
}

/**
 * Validates the profile against the model endpoints, applies every object to both engines, then
 * warms each engine up with a vector query and a BM25 term query on the profile's index. The
 * backbone counts as ready only when this returns.
 */
export async function runSetup(
  engines: { es: ElasticsearchClient; os: OpenSearchClient },
  models: ModelClient,
  options: SetupOptions,
): Promise<SetupResult> {
  assertValidProfile(options.profile, options.endpoints);
  const log = options.log ?? (() => {});
  // The endpoint itself must serve the declared dims; ask it before anything is applied.
  await models.embed(["dimension probe"]);
  const [elasticsearch, opensearch] = await Promise.all([
    setupElasticsearch(engines.es, {
      base: options.base,
      profile: options.profile,
      replicas: options.replicas?.elasticsearch ?? 0,
    }),
    setupOpenSearch(engines.os, {
      base: options.base,
      profile: options.profile,
      endpoints: options.endpoints,
      ...(options.auth ? { auth: options.auth } : {}),
      replicas: options.replicas?.opensearch ?? 0,
    }),
  ]);
  log(
    `setup: elasticsearch index ${elasticsearch.index} (alias -> ${elasticsearch.aliasTarget}), engagement index ${elasticsearch.engagement}`,
  );
  log(`setup: opensearch index ${opensearch.index} (alias -> ${opensearch.aliasTarget})`);
  const users = options.users ? await setupEngineUsers(engines, options.base, options.users) : undefined;
  if (users) log(`setup: engine users ${Object.values(users.users).join(", ")} on both engines`);
  const warmup = {
    elasticsearch: await warmElasticsearch(engines.es, models, elasticsearch.index),
    opensearch: await warmOpenSearch(engines.os, opensearch),
  };
  log(`setup: warm-up done ${JSON.stringify(warmup)}`);
  return { elasticsearch, opensearch, warmup, ...(users ? { users } : {}) };
}

const WARMUP_TEXT = "search backbone warm-up";

async function timed(run: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await run();
  return Math.round(performance.now() - started);
}

async function warmElasticsearch(es: ElasticsearchClient, models: ModelClient, index: string): Promise<WarmupResult> {
  const [vector] = await models.embed([WARMUP_TEXT]);
  return {
    vectorMs: await timed(() =>
      quoting("elasticsearch", "warm-up kNN query", () =>
        es.search({ index, size: 1, knn: { field: FIELDS.vector, query_vector: vector!, k: 1, num_candidates: 10 } }),
      ),
    ),
    bm25Ms: await timed(() =>
      quoting("elasticsearch", "warm-up BM25 query", () =>
        es.search({ index, size: 1, query: { match: { [FIELDS.text]: "backbone" } } }),
      ),
    ),
  };
}

/** The vector query goes through the embedding model (neural), proving the connector end to end. */
async function warmOpenSearch(os: OpenSearchClient, setup: OpenSearchSetup): Promise<WarmupResult> {
  return {
    vectorMs: await timed(() =>
      quoting("opensearch", "warm-up neural query", () =>
        os.search({
          index: setup.index,
          body: {
            size: 1,
            query: {
              neural: { [FIELDS.vector]: { query_text: WARMUP_TEXT, model_id: setup.embeddingModelId, k: 1 } },
            },
          } as any,
        }),
      ),
    ),
    bm25Ms: await timed(() =>
      quoting("opensearch", "warm-up BM25 query", () =>
        os.search({ index: setup.index, body: { size: 1, query: { match: { [FIELDS.text]: "backbone" } } } as any }),
      ),
    ),
  };
}
