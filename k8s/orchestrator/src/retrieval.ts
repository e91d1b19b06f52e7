import type { ElasticsearchClient, OpenSearchClient } from "@search-backbone/engines";
import {
  accessFilter,
  admits,
  esBm25Request,
  esKnnRequest,
  FIELDS,
  type FusedHit,
  fuse,
  fusionSettings,
  ModelClient,
  type ModelEndpoints,
  type ModelTransport,
  osHybridQuery,
  type Principal,
  type RelevanceProfile,
  type ScoredHit,
} from "@search-backbone/relevance";
import type { Deadline } from "./deadline";
import type { EngineName } from "./domain";
import { type IndexResolver, type PinnedIndex, vectorFits } from "./indices";
import { type Dependency, type Limiter, OverloadedError } from "./limits";
import { type Metrics, timed } from "./metrics";

/**
 * Retrieval, shared by /v1/search and /v1/chat:
 * 1. embed the query once;
 * 2. BM25 and kNN at the profile's depth on Elasticsearch and OpenSearch, all four in parallel, each
 *    answering ids and scores only (`_source: false`, `filter_path`);
 * 3. per engine, min-max + weighted fusion by the backbone's fusion module (both engines fused here,
 *    not in OpenSearch's pipeline, so there is exactly one rerank call);
 * 4. merge across engines by chunk id (a chunk keeps its best fused score; both are on [0, 1]);
 * 5. the text of the top `rerankWindow` only, in one `_mget` to the engine that ranked each chunk;
 * 6. one rerank call over them.
 * Parsing four pages of hits with their text cost more CPU than all of the service's own work, while
 * only the rerank window's text is ever used (stage 5 sends a few KB instead of four full pages).
 * An engine that fails or times out leaves the answer to the other (`degraded`); a failed embedding
 * leaves BM25 alone; a failed reranker leaves the fused order. Only with no engine at all does it fail.
 * Every call waits for a slot of its dependency's limiter (src/limits.ts); a refusal fails the request
 * at once (503 with Retry-After) instead of degrading it.
 */

export const ENGINES: readonly EngineName[] = ["elasticsearch", "opensearch"];

export interface Chunk {
  readonly id: string;
  readonly docId: string;
  readonly sourceKey: string;
  readonly title: string;
  readonly content: string;
  readonly chunkNo: number;
  /** Its access tokens (see the relevance package's access.ts); never sent to callers. */
  readonly access: readonly string[];
}

export interface RetrievedHit extends Chunk {
  readonly score: number;
  readonly engines: readonly EngineName[];
  readonly scores: { fused: number; rerank?: number } & Partial<Record<EngineName, number>>;
}

export interface Warning {
  readonly dependency: string;
  readonly message: string;
}

export interface Retrieval {
  readonly hits: readonly RetrievedHit[];
  readonly vector: readonly number[] | undefined;
  readonly degraded: boolean;
  readonly warnings: readonly Warning[];
  /** applied; skipped: the reranker failed (a warning says why); off: RERANK_ENABLED=false. */
  readonly rerank: "applied" | "skipped" | "off";
}

export interface Filters {
  readonly contentType?: readonly string[] | undefined;
  readonly sourcePrefix?: string | undefined;
}

export interface RetrieverOptions {
  readonly es: ElasticsearchClient;
  readonly os: OpenSearchClient;
  /** The alias, resolved to the concrete index each query runs on. */
  readonly indices: IndexResolver;
  readonly profile: RelevanceProfile;
  readonly endpoints: ModelEndpoints;
  readonly modelApiKey?: string | undefined;
  readonly modelTransport?: ModelTransport | undefined;
  readonly rawPrefix: string;
  readonly timeouts: { readonly embed: number; readonly engine: number; readonly rerank: number };
  /** Whether to rerank at all (RERANK_ENABLED); default true. */
  readonly rerank?: boolean | undefined;
  readonly metrics: Metrics;
  /** Bounds the calls in flight per dependency; none: unbounded. */
  readonly limiters?: Readonly<Record<Dependency, Limiter>> | undefined;
}

export class EnginesUnavailableError extends Error {
  constructor(readonly warnings: readonly Warning[]) {
    super(`no search engine answered: ${warnings.map((w) => `${w.dependency}: ${w.message}`).join("; ")}`);
  }
}

const NO_SPAN = { enabled: false };
export const SOURCE_FIELDS = [FIELDS.text, FIELDS.title, FIELDS.sourceKey, FIELDS.chunkNo, FIELDS.access];
/** What the candidate lists need of a multi-search answer: ids, scores and per-search errors. */
export const MSEARCH_FILTER =
  "responses.hits.hits._id,responses.hits.hits._score,responses.error,responses.status,error";
export const MGET_FILTER = "docs._id,docs.found,docs._source,docs.error,error";
/**
 * How much of its budget a request keeps, per stage still ahead of it (this one included), when it
 * waits for a slot: a waiter gives up while the rest of the request can still be answered in time.
 */
const STAGE_RESERVE_MS = 100;

/** A merged candidate: its fused scores and the engines that returned it, before its text is fetched. */
export interface Candidate {
  readonly id: string;
  readonly score: number;
  readonly engines: readonly EngineName[];
  readonly scores: RetrievedHit["scores"];
}

export class Retriever {
  private fusion: ReturnType<typeof fusionSettings>;

  private o: RetrieverOptions;

  constructor(options: RetrieverOptions) {
    this.o = options;
    this.fusion = fusionSettings(options.profile);
  }

  /**
   * A new profile and endpoints (the model files were reloaded, see reload.ts). A request already
   * running keeps the options it started with, so its vector and the model it checks the index
   * against always belong together.
   */
  reconfigure(next: { profile: RelevanceProfile; endpoints: ModelEndpoints }): void {
    this.o = { ...this.o, ...next };
    this.fusion = fusionSettings(next.profile);
  }

  private limited<T>(dependency: Dependency, deadline: Deadline, stagesAhead: number, call: () => Promise<T>) {
    const limiter = this.o.limiters?.[dependency];
    return limiter ? limiter.run(deadline, call, stagesAhead * STAGE_RESERVE_MS) : call();
  }

  private models(timeoutMs: number, endpoints = this.o.endpoints): ModelClient {
    return new ModelClient({
      endpoints,
      retries: 0,
      timeoutMs,
      ...(this.o.modelTransport ? { transport: this.o.modelTransport } : {}),
      ...(this.o.modelApiKey ? { apiKey: this.o.modelApiKey } : {}),
    });
  }

  async embed(text: string, deadline: Deadline, endpoints = this.o.endpoints): Promise<number[]> {
    const [vector] = await this.limited("embedding", deadline, 4, () =>
      timed(this.o.metrics, "embedding", () =>
        this.models(deadline.timeout(this.o.timeouts.embed), endpoints).embed([text]),
      ),
    );
    return vector as number[];
  }

  async retrieve(
    text: string,
    deadline: Deadline,
    options: { principal: Principal; filters?: Filters; topK?: number },
  ): Promise<Retrieval> {
    const warnings: Warning[] = [];
    const { profile, endpoints } = this.o;
    const fusion = this.fusion;
    // Resolve the alias (normally cached) while the query is embedded.
    for (const engine of ENGINES) this.o.indices.resolve(engine, deadline).catch(() => undefined);
    let vector: number[] | undefined;
    try {
      vector = await this.embed(text, deadline, endpoints);
    } catch (error) {
      if (error instanceof OverloadedError) throw error;
      warnings.push({ dependency: "embedding", message: `embedding failed, BM25 only: ${message(error)}` });
    }
    const settled = await Promise.allSettled(
      ENGINES.map((engine) =>
        this.searchEngine(engine, text, vector, filterClauses(options.filters ?? {}, options.principal), deadline, {
          profile,
          fusion,
        }),
      ),
    );
    const perEngine = new Map<EngineName, { fused: FusedHit[]; pin: PinnedIndex }>();
    settled.forEach((result, i) => {
      const engine = ENGINES[i] as EngineName;
      if (result.status === "fulfilled") {
        perEngine.set(engine, result.value);
        if (result.value.warning) warnings.push(result.value.warning);
      } else warnings.push({ dependency: engine, message: `${engine} failed: ${message(result.reason)}` });
    });
    const overloaded = settled.find((r) => r.status === "rejected" && r.reason instanceof OverloadedError);
    if (overloaded) throw (overloaded as PromiseRejectedResult).reason;
    if (perEngine.size === 0) throw new EnginesUnavailableError(warnings);

    const candidates = mergeEngines(perEngine).slice(0, profile.rerankWindow);
    const merged = await this.withText(candidates, perEngine, deadline, warnings, options.principal);
    let ranked = merged;
    let rerank: Retrieval["rerank"] = this.o.rerank === false ? "off" : "skipped";
    if (merged.length > 0 && rerank !== "off") {
      try {
        const scores = await this.limited("rerank", deadline, 1, () =>
          timed(this.o.metrics, "rerank", () =>
            this.models(deadline.timeout(this.o.timeouts.rerank), endpoints).rerank(
              text,
              merged.map((h) => h.content),
            ),
          ),
        );
        ranked = merged
          .map((hit, i) => ({
            ...hit,
            score: scores[i] as number,
            scores: { ...hit.scores, rerank: scores[i] as number },
          }))
          .sort(byScoreThenId);
        rerank = "applied";
      } catch (error) {
        if (error instanceof OverloadedError) throw error;
        warnings.push({ dependency: "rerank", message: `reranker failed, fused order kept: ${message(error)}` });
      }
    }
    for (const w of warnings) this.o.metrics.degraded.inc({ dependency: w.dependency });
    return {
      hits: ranked.slice(0, options.topK ?? profile.topK),
      vector,
      degraded: warnings.length > 0,
      warnings,
      rerank,
    };
  }

  /**
   * BM25 and kNN on one engine, on the concrete index the alias names, fused by the backbone's fusion
   * module. kNN only when that index's `_meta` expects this embedding model and dims (mid-rebuild the
   * alias can name an index of another profile generation): otherwise BM25 alone, with a warning.
   */
  private searchEngine(
    engine: EngineName,
    text: string,
    vector: number[] | undefined,
    filter: FilterClause[],
    deadline: Deadline,
    config: { profile: RelevanceProfile; fusion: ReturnType<typeof fusionSettings> },
  ): Promise<{ fused: FusedHit[]; pin: PinnedIndex; warning?: Warning }> {
    const { profile, fusion } = config;
    return this.o.indices.withIndex(engine, deadline, async (pin) => {
      const model = profile.embedding.model;
      const usable = vector && vectorFits(pin, model, vector) ? vector : undefined;
      const bodies =
        engine === "elasticsearch" ? esBodies(profile, text, usable, filter) : osBodies(profile, text, usable, filter);
      // One `_msearch` per engine (BM25 and kNN in one exchange), not two searches: half the HTTP
      // exchanges, the same two result lists.
      const searches = bodies.filter((body) => body !== undefined) as Record<string, any>[];
      const lines = searches.flatMap((body) => [{}, body]);
      const responses = await this.limited(engine, deadline, 3, () => {
        const options = { requestTimeout: deadline.timeout(this.o.timeouts.engine), maxRetries: 0 };
        // The ES client wraps every request in an OpenTelemetry span (a no-op tracer here, still ~3 % of
        // the CPU per search); off per request, since the client does not pass the option to its transport
        // (https://www.elastic.co/docs/reference/elasticsearch/clients/javascript/observability).
        return timed(
          this.o.metrics,
          engine,
          (): Promise<unknown> =>
            engine === "elasticsearch"
              ? this.o.es.msearch(
                  { index: pin.index, searches: lines, filter_path: MSEARCH_FILTER },
                  { ...options, openTelemetry: NO_SPAN },
                )
              : this.o.os
                  .msearch({ index: pin.index, body: lines, filter_path: MSEARCH_FILTER }, options)
                  .then((r) => r.body),
        );
      }).then((r: any) => subResponses(r, searches.length));
      // One list per sub-query of the profile (BM25, kNN), empty for a kNN that was not run.
      let answered = 0;
      const lists = bodies.map((body) =>
        body === undefined
          ? []
          : ((responses[answered++]?.hits?.hits ?? []) as any[]).map(
              (h): ScoredHit => ({ id: String(h._id), score: Number(h._score) }),
            ),
      );
      const fused = fuse(lists, fusion);
      if (!vector || usable) return { fused, pin };
      const warning = {
        dependency: engine,
        message: `${engine} index ${pin.index} expects embedding ${pin.model}/${pin.dims} dims, not ${model}/${vector.length}: BM25 only`,
      };
      return { fused, pin, warning };
    });
  }

  /**
   * The candidates with their text, fetched once for the fused top: each from the first engine that
   * returned it (both serve the same corpus), so normally one `_mget` to one engine. A fetch that
   * fails drops its candidates with a warning; a chunk the index no longer holds is dropped.
   */
  private async withText(
    candidates: readonly Candidate[],
    perEngine: Map<EngineName, { pin: PinnedIndex }>,
    deadline: Deadline,
    warnings: Warning[],
    principal: Principal,
  ): Promise<RetrievedHit[]> {
    const groups = new Map<EngineName, string[]>();
    for (const c of candidates) {
      const engine = c.engines[0] as EngineName;
      const ids = groups.get(engine);
      if (ids) ids.push(c.id);
      else groups.set(engine, [c.id]);
    }
    const chunks = new Map<string, Chunk>();
    const settled = await Promise.allSettled(
      [...groups].map(([engine, ids]) =>
        this.fetchChunks(engine, (perEngine.get(engine) as { pin: PinnedIndex }).pin, ids, deadline).then((found) => {
          // The engines filtered already; a chunk whose permission changed since is dropped here too.
          for (const chunk of found) if (admits(chunk.access, principal)) chunks.set(chunk.id, chunk);
        }),
      ),
    );
    [...groups.keys()].forEach((engine, i) => {
      const result = settled[i] as PromiseSettledResult<void>;
      if (result.status === "rejected") {
        if (result.reason instanceof OverloadedError) throw result.reason;
        warnings.push({
          dependency: engine,
          message: `${engine} failed to return the results' text: ${message(result.reason)}`,
        });
      }
    });
    const hits: RetrievedHit[] = [];
    for (const c of candidates) {
      const chunk = chunks.get(c.id);
      if (chunk) hits.push({ ...chunk, score: c.score, engines: c.engines, scores: c.scores });
    }
    if (hits.length === 0 && candidates.length > 0) throw new EnginesUnavailableError(warnings);
    return hits;
  }

  private async fetchChunks(engine: EngineName, pin: PinnedIndex, ids: string[], deadline: Deadline): Promise<Chunk[]> {
    const body: any = await this.limited(engine, deadline, 2, () => {
      const options = { requestTimeout: deadline.timeout(this.o.timeouts.engine), maxRetries: 0 };
      return timed(
        this.o.metrics,
        `${engine}-fetch`,
        (): Promise<unknown> =>
          engine === "elasticsearch"
            ? this.o.es.mget(
                { index: pin.index, ids, _source: SOURCE_FIELDS, filter_path: MGET_FILTER },
                { ...options, openTelemetry: NO_SPAN },
              )
            : this.o.os
                .mget({ index: pin.index, body: { ids }, _source: SOURCE_FIELDS, filter_path: MGET_FILTER }, options)
                .then((r) => r.body),
      );
    });
    const chunks: Chunk[] = [];
    for (const doc of (body?.docs ?? []) as any[]) {
      if (doc?.error)
        throw Object.assign(new Error(`mget failed: ${doc.error.type}: ${doc.error.reason}`), {
          meta: { body: { error: doc.error } },
        });
      if (doc?.found) chunks.push(this.chunkOf(String(doc._id), doc._source ?? {}));
    }
    return chunks;
  }

  chunkOf(id: string, source: Record<string, unknown>): Chunk {
    const sourceKey = String(source[FIELDS.sourceKey] ?? "");
    return {
      id,
      sourceKey,
      docId: docIdOf(sourceKey, this.o.rawPrefix),
      title: String(source[FIELDS.title] ?? ""),
      content: String(source[FIELDS.text] ?? ""),
      chunkNo: Number(source[FIELDS.chunkNo] ?? 0),
      access: accessTokensOf(source),
    };
  }
}

/**
 * The sub-responses of an `_msearch`, in request order. A sub-search that failed (its own `error`
 * item, e.g. `index_not_found_exception` after the pinned index was retired) fails the engine as a
 * plain search would: the error carries the engine's error body where both clients put it
 * (`meta.body.error`), so the index pinning and the warnings read it the same way.
 */
export function subResponses(body: { responses?: any[] }, expected: number): any[] {
  const responses = body?.responses ?? [];
  if (responses.length !== expected) throw new Error(`_msearch answered ${responses.length} of ${expected} searches`);
  for (const r of responses) {
    if (r?.error) {
      const reason = typeof r.error === "object" ? `${r.error.type}: ${r.error.reason}` : String(r.error);
      throw Object.assign(new Error(`search failed (${r.status ?? "no status"}): ${reason}`), {
        meta: { statusCode: r.status, body: { error: r.error } },
      });
    }
  }
  return responses;
}

/** A chunk's access tokens from its `_source` (a keyword field holds one value or an array). */
export function accessTokensOf(source: Record<string, unknown>): string[] {
  const value = source[FIELDS.access];
  return Array.isArray(value) ? value.map(String) : typeof value === "string" ? [value] : [];
}

/** The document id models/ and AIRec use: the object key relative to raw/. */
export function docIdOf(sourceKey: string, rawPrefix: string): string {
  return sourceKey.startsWith(rawPrefix) ? sourceKey.slice(rawPrefix.length) : sourceKey;
}

type FilterClause = Record<string, unknown>;

/** The caller's access filter first, then the request's own filters; every engine query carries them all. */
export function filterClauses(filters: Filters, principal: Principal): FilterClause[] {
  const clauses: FilterClause[] = [accessFilter(principal)];
  if (filters.contentType?.length) clauses.push({ terms: { [FIELDS.contentType]: [...filters.contentType] } });
  if (filters.sourcePrefix) clauses.push({ prefix: { [FIELDS.sourceKey]: filters.sourcePrefix } });
  return clauses;
}

/** The profile's rendered ES requests, ids and scores only, each carrying the filters (kNN in `knn.filter`). */
export function esBodies(
  profile: RelevanceProfile,
  text: string,
  vector: number[] | undefined,
  filter: FilterClause[],
) {
  const bm25 = esBm25Request(profile, text, filter);
  if (!vector) return [bm25, undefined];
  return [bm25, esKnnRequest(profile, vector, filter)];
}

/** The two sub-queries of the profile's rendered OpenSearch hybrid query, sent as plain searches. */
export function osBodies(
  profile: RelevanceProfile,
  text: string,
  vector: number[] | undefined,
  filter: FilterClause[],
) {
  const hybrid = osHybridQuery(profile, text, vector ?? [], "fusion", filter) as any;
  const [match, knn] = hybrid.query.hybrid.queries as [unknown, unknown];
  const body = (query: unknown) => ({ size: profile.candidateDepth, _source: false, query });
  if (!vector) return [body(match), undefined];
  return [body(match), body(knn)];
}

/** Merges the engines' fused lists by chunk id: a chunk keeps its best fused score and every engine that returned it. */
export function mergeEngines(perEngine: Map<EngineName, { fused: readonly FusedHit[] }>): Candidate[] {
  const merged = new Map<string, Candidate>();
  for (const [engine, { fused }] of perEngine) {
    for (const hit of fused) {
      const seen = merged.get(hit.id);
      const score = Math.max(seen?.score ?? 0, hit.score);
      merged.set(hit.id, {
        id: hit.id,
        score,
        engines: seen ? [...seen.engines, engine] : [engine],
        scores: { ...(seen?.scores ?? {}), fused: score, [engine]: hit.score },
      });
    }
  }
  return [...merged.values()].sort(byScoreThenId);
}

function byScoreThenId(a: { score: number; id: string }, b: { score: number; id: string }): number {
  return b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

export function message(error: unknown): string {
  const e = error as { name?: string; message?: string };
  return `${e?.name && e.name !== "Error" ? `${e.name}: ` : ""}${e?.message ?? String(error)}`.slice(0, 300);
}
