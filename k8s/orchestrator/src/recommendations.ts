import { randomUUID } from "node:crypto";
import type { ElasticsearchClient, OpenSearchClient } from "@search-backbone/engines";
import { accessFilter, FIELDS, type Principal, type RelevanceProfile } from "@search-backbone/relevance";
import type { AirecClient } from "./airec";
import type { Deadline } from "./deadline";
import type { EngineName } from "./domain";
import type { EngagementReader } from "./engagement";
import { type IndexResolver, type PinnedIndex, vectorFits } from "./indices";
import { type Metrics, timed } from "./metrics";
import { accessTokensOf, type Chunk, docIdOf, ENGINES, message, type Warning } from "./retrieval";

/**
 * Recommendations: AIRec first (signed Recommend call), its item ids hydrated from the backbone; when
 * AIRec is off, down, or returns too few, "more like what this user engaged with" from the backbone's
 * own vectors (the mean of the engaged documents' chunk vectors, plus the conversation's query vector
 * in chat), then the documents popular over the configured window, then the catalogue. Engagement comes
 * from the engagement index every replica writes and reads (engagement.ts); when it cannot be read, the
 * steps that need it are skipped with a warning and the catalogue still answers. Every item says
 * which source and strategy produced it and carries a trace id: AIRec's, or `bb-<uuid>` of this call.
 * Every backbone query carries the caller's access filter (the kNN one inside the kNN search), and
 * AIRec's item ids count only once hydrated through such a query: AIRec knows nothing of permissions,
 * so an id the caller may not read finds no document and is dropped.
 */

export interface RecItem {
  readonly docId: string;
  readonly title: string;
  readonly uri: string;
  readonly source: "airec" | "backbone";
  readonly strategy: "airec" | "more-like-engaged" | "popular" | "catalogue";
  readonly traceId: string;
}

export interface RecResult {
  readonly items: readonly RecItem[];
  readonly requestId: string;
  readonly degraded: boolean;
  readonly warnings: readonly Warning[];
}

export interface RecommenderOptions {
  readonly es: ElasticsearchClient;
  readonly os: OpenSearchClient;
  /** The alias, resolved to the concrete index each query runs on (see indices.ts). */
  readonly indices: IndexResolver;
  readonly profile: RelevanceProfile;
  readonly rawPrefix: string;
  readonly docUriPrefix: string;
  readonly airec?: { client: AirecClient; sceneId: string; itemType: string } | undefined;
  /** The engagement shared by the replicas (engagement.ts). */
  readonly engagement: EngagementReader;
  readonly timeouts: { readonly engine: number; readonly airec: number };
  readonly metrics: Metrics;
}

export interface RecRequest {
  readonly userId: string;
  /** Who is asking; only documents it may read are recommended. */
  readonly principal: Principal;
  readonly count: number;
  readonly sceneId?: string | undefined;
  /** Chat: the conversation's retrieval vector and the documents it cited. */
  readonly contextVector?: readonly number[] | undefined;
  readonly relatedDocIds?: readonly string[] | undefined;
}

export class Recommender {
  private o: RecommenderOptions;

  constructor(options: RecommenderOptions) {
    this.o = options;
  }

  /** A reloaded profile (see reload.ts): the embedding model a context vector must match, the depth. */
  reconfigure(next: { profile: RelevanceProfile }): void {
    this.o = { ...this.o, ...next };
  }

  async recommend(request: RecRequest, deadline: Deadline): Promise<RecResult> {
    const requestId = `bb-${randomUUID()}`;
    const warnings: Warning[] = [];
    const items: RecItem[] = [];
    const exclude = new Set<string>([...(request.relatedDocIds ?? [])]);
    const add = (
      docs: Chunk[],
      source: RecItem["source"],
      strategy: RecItem["strategy"],
      trace: (d: string) => string,
    ) => {
      for (const doc of docs) {
        if (items.length >= request.count || exclude.has(doc.docId)) continue;
        exclude.add(doc.docId);
        items.push({
          docId: doc.docId,
          title: doc.title,
          uri: `${this.o.docUriPrefix}${doc.sourceKey}`,
          source,
          strategy,
          traceId: trace(doc.docId),
        });
      }
    };

    if (this.o.airec) {
      try {
        const { client, sceneId, itemType } = this.o.airec;
        const found = await timed(this.o.metrics, "airec", () =>
          client.recommend({
            userId: request.userId,
            sceneId: request.sceneId ?? sceneId,
            count: request.count + exclude.size,
            items: (request.relatedDocIds ?? []).slice(0, 5).map((id) => ({ id, type: itemType })),
            timeoutMs: deadline.timeout(this.o.timeouts.airec),
          }),
        );
        const traces = new Map(found.map((f) => [f.itemId, f.traceId]));
        const docs = await this.hydrate(
          found.map((f) => f.itemId),
          request.principal,
          deadline,
        );
        add(docs, "airec", "airec", (d) => traces.get(d) ?? requestId);
        if (items.length < request.count) {
          warnings.push({
            dependency: "airec",
            message: `AIRec returned ${items.length} usable of ${request.count} items`,
          });
        }
      } catch (error) {
        warnings.push({ dependency: "airec", message: `AIRec failed, backbone fallback: ${message(error)}` });
      }
    }
    // A failed engagement read leaves its step empty, with a warning; the catalogue still answers.
    const engagement = async <T>(what: string, read: () => Promise<readonly T[]>): Promise<readonly T[]> => {
      try {
        return await read();
      } catch (error) {
        warnings.push({ dependency: "engagement", message: `${what} unavailable, skipped: ${message(error)}` });
        return [];
      }
    };
    try {
      if (items.length < request.count) {
        const engaged = await engagement("the user's engagement", () =>
          this.o.engagement.engaged(request.userId, deadline),
        );
        for (const d of engaged) exclude.add(d);
        const like = await this.moreLike(
          engaged,
          request.contextVector,
          request.count + exclude.size,
          request.principal,
          deadline,
        );
        add(like, "backbone", "more-like-engaged", () => requestId);
      }
      if (items.length < request.count) {
        add(
          await this.hydrate(
            await engagement("popularity", () => this.o.engagement.popular(request.count * 3, deadline)),
            request.principal,
            deadline,
          ),
          "backbone",
          "popular",
          () => requestId,
        );
      }
      if (items.length < request.count) {
        add(
          await this.catalogue(request.count + exclude.size, request.principal, deadline),
          "backbone",
          "catalogue",
          () => requestId,
        );
      }
    } catch (error) {
      warnings.push({ dependency: "backbone", message: `backbone recommendations failed: ${message(error)}` });
    }
    for (const w of warnings) this.o.metrics.degraded.inc({ dependency: w.dependency });
    return { items, requestId, degraded: warnings.length > 0, warnings };
  }

  /** The first engine that answers (Elasticsearch, then OpenSearch) runs `query` on its pinned index. */
  private async onEngine<T>(
    deadline: Deadline,
    query: (engine: EngineName, pin: PinnedIndex, requestTimeout: number) => Promise<T>,
  ): Promise<T> {
    let last: unknown;
    for (const engine of ENGINES) {
      try {
        return await this.o.indices.withIndex(engine, deadline, (pin) =>
          timed(this.o.metrics, engine, () => query(engine, pin, deadline.timeout(this.o.timeouts.engine))),
        );
      } catch (error) {
        last = error;
      }
    }
    throw last;
  }

  private async searchOn(
    engine: EngineName,
    pin: PinnedIndex,
    body: Record<string, unknown>,
    requestTimeout: number,
  ): Promise<any[]> {
    const options = { requestTimeout, maxRetries: 0 };
    const response: any =
      engine === "elasticsearch"
        ? await this.o.es.search({ index: pin.index, ...(body as any) }, options)
        : (await this.o.os.search({ index: pin.index, body: body as any }, options)).body;
    return response.hits?.hits ?? [];
  }

  /** One search on the first engine that answers. */
  private search(body: Record<string, unknown>, deadline: Deadline): Promise<any[]> {
    return this.onEngine(deadline, (engine, pin, timeout) => this.searchOn(engine, pin, body, timeout));
  }

  private chunk(h: any): Chunk {
    const s = h._source ?? {};
    const sourceKey = String(s[FIELDS.sourceKey] ?? "");
    return {
      id: String(h._id),
      sourceKey,
      docId: docIdOf(sourceKey, this.o.rawPrefix),
      title: String(s[FIELDS.title] ?? ""),
      content: "",
      chunkNo: Number(s[FIELDS.chunkNo] ?? 0),
      access: accessTokensOf(s),
    };
  }

  /** Documents by id (first chunk of each), in the order given; unknown ids are left out. */
  async hydrate(docIds: readonly string[], principal: Principal, deadline: Deadline): Promise<Chunk[]> {
    if (docIds.length === 0) return [];
    const hits = await this.search(
      {
        size: docIds.length,
        _source: [FIELDS.sourceKey, FIELDS.title, FIELDS.chunkNo],
        query: filtered({ terms: { [FIELDS.sourceKey]: docIds.map((d) => `${this.o.rawPrefix}${d}`) } }, principal),
        collapse: { field: FIELDS.sourceKey },
        sort: [{ [FIELDS.chunkNo]: "asc" }],
      },
      deadline,
    );
    const byId = new Map(hits.map((h) => this.chunk(h)).map((c) => [c.docId, c]));
    return docIds.flatMap((d) => (byId.has(d) ? [byId.get(d) as Chunk] : []));
  }

  /**
   * The engaged documents' stored vectors and the kNN query go to the same pinned index, and the
   * conversation's vector joins them only if that index expects its model and dims.
   */
  private moreLike(
    engaged: readonly string[],
    context: readonly number[] | undefined,
    n: number,
    principal: Principal,
    deadline: Deadline,
  ): Promise<Chunk[]> {
    return this.onEngine(deadline, async (engine, pin, requestTimeout) => {
      const vectors: number[][] =
        context && vectorFits(pin, this.o.profile.embedding.model, context) ? [[...context]] : [];
      if (engaged.length > 0) {
        const hits = await this.searchOn(
          engine,
          pin,
          {
            size: Math.min(200, engaged.length * 10),
            _source: [FIELDS.vector],
            query: filtered(
              { terms: { [FIELDS.sourceKey]: engaged.map((d) => `${this.o.rawPrefix}${d}`) } },
              principal,
            ),
          },
          requestTimeout,
        );
        for (const h of hits) if (Array.isArray(h._source?.[FIELDS.vector])) vectors.push(h._source[FIELDS.vector]);
      }
      if (vectors.length === 0) return [];
      const dims = vectors[0]!.length;
      const mean = Array.from(
        { length: dims },
        (_, i) => vectors.reduce((s, v) => s + (v[i] ?? 0), 0) / vectors.length,
      );
      const k = Math.min(this.o.profile.candidateDepth, n * 4);
      const fields = [FIELDS.sourceKey, FIELDS.title, FIELDS.chunkNo];
      // The filter inside the kNN search (ES knn.filter, OpenSearch Lucene efficient filtering).
      const filter = { bool: { filter: [accessFilter(principal)] } };
      const body =
        engine === "elasticsearch"
          ? {
              size: k,
              _source: fields,
              knn: { field: FIELDS.vector, query_vector: mean, k, num_candidates: Math.max(100, k * 2), filter },
            }
          : { size: k, _source: fields, query: { knn: { [FIELDS.vector]: { vector: mean, k, filter } } } };
      const hits = await this.searchOn(engine, pin, body, deadline.timeout(this.o.timeouts.engine));
      return uniqueDocs(hits.map((h) => this.chunk(h)));
    });
  }

  private async catalogue(n: number, principal: Principal, deadline: Deadline): Promise<Chunk[]> {
    const hits = await this.search(
      {
        size: n,
        _source: [FIELDS.sourceKey, FIELDS.title, FIELDS.chunkNo],
        query: filtered({ term: { [FIELDS.chunkNo]: 0 } }, principal),
        sort: [{ [FIELDS.sourceKey]: "asc" }],
      },
      deadline,
    );
    return hits.map((h) => this.chunk(h));
  }
}

/** A query restricted to what the principal may read. */
export function filtered(query: Record<string, unknown>, principal: Principal): Record<string, unknown> {
  return { bool: { must: [query], filter: [accessFilter(principal)] } };
}

function uniqueDocs(chunks: Chunk[]): Chunk[] {
  const seen = new Set<string>();
  return chunks.filter((c) => !seen.has(c.docId) && seen.add(c.docId));
}
