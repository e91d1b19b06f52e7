import type { ElasticsearchClient, OpenSearchClient } from "@search-backbone/engines";
import {
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
  type RelevanceProfile,
  type ScoredHit,
} from "@search-backbone/relevance";
import type { Deadline } from "./deadline";
import type { EngineName } from "./domain";
import { type IndexResolver, vectorFits } from "./indices";
import { type Metrics, timed } from "./metrics";

/**
 * Retrieval, shared by /v1/search and /v1/chat:
 * 1. embed the query once;
 * 2. BM25 and kNN at the profile's depth on Elasticsearch and OpenSearch, all four in parallel;
 * 3. per engine, min-max + weighted fusion by the backbone's fusion module (both engines fused here,
 *    not in OpenSearch's pipeline, so there is exactly one rerank call);
 * 4. merge across engines by chunk id (a chunk keeps its best fused score; both are on [0, 1]);
 * 5. one rerank call over the top `rerankWindow`.
 * An engine that fails or times out leaves the answer to the other (`degraded`); a failed embedding
 * leaves BM25 alone; a failed reranker leaves the fused order. Only with no engine at all does it fail.
 */

export const ENGINES: readonly EngineName[] = ["elasticsearch", "opensearch"];

export interface Chunk {
  readonly id: string;
  readonly docId: string;
  readonly sourceKey: string;
  readonly title: string;
  readonly content: string;
  readonly chunkNo: number;
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
  readonly rerank: "applied" | "skipped";
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
  readonly metrics: Metrics;
}

export class EnginesUnavailableError extends Error {
  constructor(readonly warnings: readonly Warning[]) {
    super(`no search engine answered: ${warnings.map((w) => `${w.dependency}: ${w.message}`).join("; ")}`);
  }
}

const NO_SPAN = { enabled: false };
const SOURCE_FIELDS = [FIELDS.text, FIELDS.title, FIELDS.sourceKey, FIELDS.chunkNo];

export class Retriever {
  constructor(private readonly o: RetrieverOptions) {}

  private models(timeoutMs: number): ModelClient {
    return new ModelClient({
      endpoints: this.o.endpoints,
      retries: 0,
      timeoutMs,
      ...(this.o.modelTransport ? { transport: this.o.modelTransport } : {}),
      ...(this.o.modelApiKey ? { apiKey: this.o.modelApiKey } : {}),
    });
  }

  async embed(text: string, deadline: Deadline): Promise<number[]> {
    const client = this.models(deadline.timeout(this.o.timeouts.embed));
    const [vector] = await timed(this.o.metrics, "embedding", () => client.embed([text]));
    return vector as number[];
  }

  async retrieve(
    text: string,
    deadline: Deadline,
    options: { filters?: Filters; topK?: number } = {},
  ): Promise<Retrieval> {
    const warnings: Warning[] = [];
    const profile = this.o.profile;
    // Resolve the alias (normally cached) while the query is embedded.
    for (const engine of ENGINES) this.o.indices.resolve(engine, deadline).catch(() => undefined);
    let vector: number[] | undefined;
    try {
      vector = await this.embed(text, deadline);
    } catch (error) {
      warnings.push({ dependency: "embedding", message: `embedding failed, BM25 only: ${message(error)}` });
    }
    const settled = await Promise.allSettled(
      ENGINES.map((engine) => this.searchEngine(engine, text, vector, options.filters ?? {}, deadline)),
    );
    const perEngine = new Map<EngineName, { fused: FusedHit[]; chunks: Map<string, Chunk> }>();
    settled.forEach((result, i) => {
      const engine = ENGINES[i] as EngineName;
      if (result.status === "fulfilled") {
        perEngine.set(engine, result.value);
        if (result.value.warning) warnings.push(result.value.warning);
      } else warnings.push({ dependency: engine, message: `${engine} failed: ${message(result.reason)}` });
    });
    if (perEngine.size === 0) throw new EnginesUnavailableError(warnings);

    const merged = mergeEngines(perEngine).slice(0, profile.rerankWindow);
    let ranked = merged;
    let rerank: Retrieval["rerank"] = "skipped";
    if (merged.length > 0) {
      try {
        const client = this.models(deadline.timeout(this.o.timeouts.rerank));
        const scores = await timed(this.o.metrics, "rerank", () =>
          client.rerank(
            text,
            merged.map((h) => h.content),
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
    filters: Filters,
    deadline: Deadline,
  ): Promise<{ fused: FusedHit[]; chunks: Map<string, Chunk>; warning?: Warning }> {
    return this.o.indices.withIndex(engine, deadline, async (pin) => {
      const requestTimeout = deadline.timeout(this.o.timeouts.engine);
      const model = this.o.profile.embedding.model;
      const usable = vector && vectorFits(pin, model, vector) ? vector : undefined;
      const filter = filterClauses(filters);
      const bodies =
        engine === "elasticsearch"
          ? esBodies(this.o.profile, text, usable, filter)
          : osBodies(this.o.profile, text, usable, filter);
      // One `_msearch` per engine (BM25 and kNN in one exchange), not two searches: half the HTTP
      // exchanges, the same two result lists.
      const searches = bodies.filter((body) => body !== undefined);
      const lines = searches.flatMap((body) => [{}, body]);
      const options = { requestTimeout, maxRetries: 0 };
      // The ES client wraps every request in an OpenTelemetry span (a no-op tracer here, still ~3 % of
      // the CPU per search); off per request, since the client does not pass the option to its transport
      // (https://www.elastic.co/docs/reference/elasticsearch/clients/javascript/observability).
      const responses = await timed(
        this.o.metrics,
        engine,
        (): Promise<unknown> =>
          engine === "elasticsearch"
            ? this.o.es.msearch({ index: pin.index, searches: lines }, { ...options, openTelemetry: NO_SPAN })
            : this.o.os.msearch({ index: pin.index, body: lines }, options).then((r) => r.body),
      ).then((r: any) => subResponses(r, searches.length));
      const chunks = new Map<string, Chunk>();
      // One list per sub-query of the profile (BM25, kNN), empty for a kNN that was not run.
      let answered = 0;
      const lists = bodies.map((body) =>
        body === undefined
          ? []
          : ((responses[answered++]?.hits?.hits ?? []) as any[]).map((h): ScoredHit => {
              chunks.set(String(h._id), this.chunkOf(String(h._id), h._source ?? {}));
              return { id: String(h._id), score: Number(h._score) };
            }),
      );
      const fused = fuse(lists, fusionSettings(this.o.profile));
      if (!vector || usable) return { fused, chunks };
      const warning = {
        dependency: engine,
        message: `${engine} index ${pin.index} expects embedding ${pin.model}/${pin.dims} dims, not ${model}/${vector.length}: BM25 only`,
      };
      return { fused, chunks, warning };
    });
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

/** The document id models/ and AIRec use: the object key relative to raw/. */
export function docIdOf(sourceKey: string, rawPrefix: string): string {
  return sourceKey.startsWith(rawPrefix) ? sourceKey.slice(rawPrefix.length) : sourceKey;
}

type FilterClause = Record<string, unknown>;

export function filterClauses(filters: Filters): FilterClause[] {
  const clauses: FilterClause[] = [];
  if (filters.contentType?.length) clauses.push({ terms: { [FIELDS.contentType]: [...filters.contentType] } });
  if (filters.sourcePrefix) clauses.push({ prefix: { [FIELDS.sourceKey]: filters.sourcePrefix } });
  return clauses;
}

/** The profile's rendered ES requests, with the fields retrieval needs and the filters added. */
export function esBodies(
  profile: RelevanceProfile,
  text: string,
  vector: number[] | undefined,
  filter: FilterClause[],
) {
  const bm25 = { ...esBm25Request(profile, text), _source: SOURCE_FIELDS } as any;
  if (filter.length) bm25.query = { bool: { must: [bm25.query], filter } };
  if (!vector) return [bm25, undefined];
  const knn = { ...esKnnRequest(profile, vector), _source: SOURCE_FIELDS } as any;
  if (filter.length) knn.knn = { ...knn.knn, filter: { bool: { filter } } };
  return [bm25, knn];
}

/** The two sub-queries of the profile's rendered OpenSearch hybrid query, sent as plain searches. */
export function osBodies(
  profile: RelevanceProfile,
  text: string,
  vector: number[] | undefined,
  filter: FilterClause[],
) {
  const hybrid = osHybridQuery(profile, text, vector ?? [], "fusion") as any;
  const [match, knn] = hybrid.query.hybrid.queries as [any, any];
  const body = (query: unknown) => ({ size: profile.candidateDepth, _source: SOURCE_FIELDS, query });
  const bm25 = body(filter.length ? { bool: { must: [match], filter } } : match);
  if (!vector) return [bm25, undefined];
  const field = Object.keys(knn.knn)[0] as string;
  const knnQuery = filter.length ? { knn: { [field]: { ...knn.knn[field], filter: { bool: { filter } } } } } : knn;
  return [bm25, body(knnQuery)];
}

interface MergedHit extends RetrievedHit {}

export function mergeEngines(
  perEngine: Map<EngineName, { fused: FusedHit[]; chunks: Map<string, Chunk> }>,
): MergedHit[] {
  const merged = new Map<string, MergedHit>();
  for (const [engine, { fused, chunks }] of perEngine) {
    for (const hit of fused) {
      const chunk = chunks.get(hit.id);
      if (!chunk) continue;
      const seen = merged.get(hit.id);
      const score = Math.max(seen?.score ?? 0, hit.score);
      merged.set(hit.id, {
        ...chunk,
        score,
        engines: [...(seen?.engines ?? []), engine],
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
