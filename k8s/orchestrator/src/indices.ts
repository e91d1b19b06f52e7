import { type ElasticsearchClient, engineErrorBody, type OpenSearchClient } from "@search-backbone/engines";
import type { Deadline } from "./deadline";
import type { EngineName } from "./domain";

/**
 * Pins each query to the concrete index the alias names (k8s/backbone/README.md, "Versioned indices
 * behind an alias"). A profile change builds `<alias>-<new generation>` beside the old index, then
 * swaps the alias atomically and deletes the old index one ingestion run later. A reader that
 * resolves the alias once (`GET <alias>/_mapping`), checks the index's `_meta` (embedding model and
 * dims) against the vector it has, and queries that concrete index never sends a vector to an index
 * of other dims, which querying the alias after embedding could do if the swap lands in between.
 *
 * The resolution is cached per engine for `ttlMs` (one `_mapping` call per engine per TTL, shared by
 * concurrent requests); a cached index keeps answering after a swap until the TTL ends, which is
 * correct (it is complete and consistent until retired). When the cached index is gone (the retire
 * step deleted it), the query fails with `index_not_found_exception`: the pin is dropped, the alias
 * resolved again and the query run once more on the new index.
 */

export interface PinnedIndex {
  readonly engine: EngineName;
  readonly index: string;
  /** From the index's `_meta` (written by the backbone's setup); undefined for an index without it. */
  readonly model: string | undefined;
  readonly dims: number | undefined;
}

export interface IndexResolverOptions {
  readonly es: ElasticsearchClient;
  readonly os: OpenSearchClient;
  readonly alias: string;
  readonly ttlMs: number;
  readonly timeoutMs: number;
}

export class IndexResolver {
  private readonly pins = new Map<EngineName, { at: number; pin: Promise<PinnedIndex> }>();
  /** Resolutions made (for tests and metrics). */
  resolutions = 0;

  constructor(private readonly o: IndexResolverOptions) {}

  resolve(engine: EngineName, deadline: Deadline): Promise<PinnedIndex> {
    const cached = this.pins.get(engine);
    if (cached && performance.now() - cached.at < this.o.ttlMs) return cached.pin;
    const pin = this.lookup(engine, deadline);
    this.pins.set(engine, { at: performance.now(), pin });
    // A failed lookup is not cached: the next request tries again.
    pin.catch(() => {
      if (this.pins.get(engine)?.pin === pin) this.pins.delete(engine);
    });
    return pin;
  }

  /** Runs `query` on the pinned index; once more on a fresh pin if that index has gone meanwhile. */
  async withIndex<T>(engine: EngineName, deadline: Deadline, query: (pin: PinnedIndex) => Promise<T>): Promise<T> {
    const pin = await this.resolve(engine, deadline);
    try {
      return await query(pin);
    } catch (error) {
      if (!isIndexNotFound(error)) throw error;
      const cached = this.pins.get(engine);
      const current = await cached?.pin.catch(() => undefined);
      if (this.pins.get(engine) === cached && (!current || current.index === pin.index)) this.pins.delete(engine);
      return query(await this.resolve(engine, deadline));
    }
  }

  private async lookup(engine: EngineName, deadline: Deadline): Promise<PinnedIndex> {
    this.resolutions++;
    const options = { requestTimeout: deadline.timeout(this.o.timeoutMs), maxRetries: 0 };
    const mappings: Record<string, { mappings?: { _meta?: Record<string, unknown> } }> =
      engine === "elasticsearch"
        ? ((await this.o.es.indices.getMapping({ index: this.o.alias }, options)) as any)
        : ((await this.o.os.indices.getMapping({ index: this.o.alias }, options)).body as any);
    const indices = Object.keys(mappings);
    if (indices.length !== 1)
      throw new Error(`alias ${this.o.alias} names ${indices.length} indices (${indices.join(", ")}); expected one`);
    const index = indices[0] as string;
    const meta = mappings[index]?.mappings?._meta ?? {};
    return {
      engine,
      index,
      model: typeof meta.embedding_model === "string" ? meta.embedding_model : undefined,
      dims: typeof meta.dims === "number" ? meta.dims : undefined,
    };
  }
}

/** Whether the index's `_meta` allows a kNN query with this vector (an index without `_meta` is trusted). */
export function vectorFits(pin: PinnedIndex, model: string, vector: readonly number[]): boolean {
  return (pin.dims === undefined || pin.dims === vector.length) && (pin.model === undefined || pin.model === model);
}

export function isIndexNotFound(error: unknown): boolean {
  const body = engineErrorBody(error) as { type?: string } | undefined;
  return typeof body === "object" && body?.type === "index_not_found_exception";
}
