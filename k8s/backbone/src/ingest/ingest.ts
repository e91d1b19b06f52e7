import type { DefaultAccess, ModelClient } from "@search-backbone/relevance";
import { FIELDS, indexNames, type RelevanceProfile } from "@search-backbone/relevance";
import { aliasTarget, indexExists, retireIndices, swapAlias } from "../setup/aliases";
import { type ChunkOptions, chunkId, chunkText, DEFAULT_CHUNKING } from "./chunk";
import { parseDocument } from "./parse";
import { changeKey, documentAccess, PermissionError, permissionChanged, splitSidecars } from "./permissions";
import { BoundedQueue } from "./queue";
import type { DocumentSource, SourceObject } from "./source";
import { ensureStateIndex, type ObjectState, readState, stateDeletions, stateOperations } from "./state";
import type { Store } from "./stores";

export interface IngestOptions {
  readonly base: string;
  readonly profile: RelevanceProfile;
  readonly prefix: string;
  /** What a document without a `<key>.acl.json` sidecar gets (permissions.ts). */
  readonly defaultAccess: DefaultAccess;
  readonly chunking?: ChunkOptions;
  /** Chunks written to the engines per bulk group. */
  readonly groupChunks?: number;
  readonly log?: (line: string) => void;
  /** Test hook: called after each group is written (a crash here must be resumable). */
  readonly afterGroup?: (written: number) => void | Promise<void>;
}

export interface IngestReport {
  readonly listed: number;
  readonly unchanged: number;
  readonly ingested: number;
  readonly chunks: number;
  readonly deleted: number;
  /** Documents indexed before whose sidecar is now unusable: removed until it is fixed (also in `failed`). */
  readonly revoked: number;
  readonly failed: readonly { readonly key: string; readonly error: string }[];
  readonly seconds: number;
  readonly docsPerSecond: number;
  readonly chunksPerSecond: number;
  /** The alias moved to this generation's index in this run. */
  readonly swapped: boolean;
  readonly retired: readonly string[];
}

interface PreparedDoc {
  readonly object: SourceObject;
  readonly chunks: { id: string; text: string; source: Record<string, unknown> }[];
}

/**
 * One ingestion run: raw/ objects -> chunks -> embeddings (once per chunk, batched) -> both engines
 * with the same ids and vectors. Unchanged objects (same ETag in both engines' state) are skipped;
 * objects gone from the bucket are removed from both engines by id; a document that fails to parse
 * is reported and skipped. When the alias still points at an older generation, it is swapped to
 * this generation's index once the run has filled it.
 */
export async function ingest(
  source: DocumentSource,
  stores: readonly [Store, ...Store[]],
  models: ModelClient,
  options: IngestOptions,
): Promise<IngestReport> {
  const started = performance.now();
  const log = options.log ?? (() => {});
  const names = indexNames(options.base, options.profile);
  const chunking = options.chunking ?? DEFAULT_CHUNKING;
  const groupChunks = options.groupChunks ?? 256;

  for (const store of stores) {
    // Writing into a missing index would auto-create it with guessed mappings.
    if (!(await indexExists(store.request, names.index))) {
      throw new Error(`${store.engine} has no index ${names.index}; run setup for this profile first`);
    }
  }
  const retired = (await Promise.all(stores.map((s) => retireIndices(s.request, names.alias, names.index)))).flat();
  await Promise.all(stores.map((s) => ensureStateIndex(s, names.state)));
  const states = await Promise.all(stores.map((s) => readState(s, names.state)));
  const listing = splitSidecars(await source.list(options.prefix));
  for (const orphan of listing.orphans) log(`ingest: sidecar ${orphan} has no document beside it; ignored`);
  // From here on an object's ETag is its change key: content and permission together.
  const objects: SourceObject[] = listing.documents.map((d) => ({
    key: d.key,
    etag: changeKey(d.etag, d.sidecarEtag, options.defaultAccess),
  }));
  const sidecars = new Map(listing.documents.map((d) => [d.key, d]));
  const current = new Set(objects.map((o) => o.key));

  const unchanged = objects.filter((o) => states.every((state) => state.get(o.key)?.etag === o.etag));
  const todo = objects.filter((o) => !unchanged.includes(o));
  const gone = [...new Set(states.flatMap((state) => [...state.keys()]))].filter((key) => !current.has(key));
  log(`ingest: ${objects.length} objects, ${unchanged.length} unchanged, ${todo.length} to do, ${gone.length} deleted`);

  if (gone.length > 0) {
    await Promise.all(
      stores.map((store, i) => {
        const ids = gone.flatMap((key) => states[i]!.get(key)?.chunkIds ?? []);
        return store.bulk("deletion of removed objects", [
          ...ids.map((id) => ({ delete: { _index: names.index, _id: id } })),
          ...stateDeletions(names.state, gone),
        ]);
      }),
    );
  }

  const failed: { key: string; error: string }[] = [];
  const revoked: string[] = [];
  let ingested = 0;
  let chunkCount = 0;

  // Three stages overlap: parsing fills a bounded queue of full batches; `concurrency` workers keep
  // that many embedding calls in flight; documents whose chunks are all embedded are written to both
  // engines in groups, one group at a time (so state stays ordered and memory bounded).
  type Batch = { doc: PreparedDoc & { vectors: number[][]; remaining: number }; chunk: number }[];
  const queue = new BoundedQueue<Batch | null>(models.concurrency * 2);
  let pending: Batch = [];
  let ready: (PreparedDoc & { vectors: number[][] })[] = [];
  let readyChunks = 0;
  let writing: Promise<void> = Promise.resolve();
  let writesQueued = 0;
  let failure: unknown;

  const startWrite = () => {
    if (ready.length === 0) return;
    const docs = ready;
    ready = [];
    readyChunks = 0;
    writesQueued++;
    writing = writing.then(async () => {
      if (failure) return;
      try {
        await write(stores, states, names, docs);
        ingested += docs.length;
        chunkCount += docs.reduce((n, d) => n + d.chunks.length, 0);
        log(
          `ingest: ${ingested}/${todo.length} documents, ${chunkCount} chunks, ${failed.length} failed, ${rate(chunkCount, started)} chunks/s`,
        );
        await options.afterGroup?.(ingested);
      } catch (error) {
        failure ??= error;
      } finally {
        writesQueued--;
      }
    });
  };

  const deliver = (batch: Batch, vectors: number[][]) => {
    batch.forEach((item, i) => {
      item.doc.vectors[item.chunk] = vectors[i]!;
      if (--item.doc.remaining === 0) {
        ready.push(item.doc);
        readyChunks += item.doc.chunks.length;
      }
    });
    if (readyChunks >= groupChunks) startWrite();
  };
  const embed = (batch: Batch) => models.embedBatch(batch.map((item) => item.doc.chunks[item.chunk]!.text));
  // Each worker sends its next call as soon as the previous one answers, and only then does the
  // bookkeeping, so the endpoint waits as little as possible on this process.
  const worker = async () => {
    let batch = await queue.take();
    let call = batch && !failure ? embed(batch) : undefined;
    while (batch) {
      let vectors: number[][] | undefined;
      try {
        vectors = await call;
      } catch (error) {
        failure ??= error;
      }
      const next = await queue.take();
      call = next && !failure ? embed(next) : undefined;
      call?.catch(() => {}); // handled when awaited above
      if (vectors && !failure) deliver(batch, vectors);
      batch = next;
    }
  };
  const workers = Array.from({ length: models.concurrency }, worker);

  for (const object of todo) {
    if (failure) break;
    let doc: PreparedDoc;
    try {
      const document = sidecars.get(object.key) as { key: string; etag: string; sidecarEtag?: string };
      const access = await documentAccess(source, document, options.defaultAccess);
      doc = await prepare(source, object, document.etag, access, chunking);
    } catch (error) {
      const permissionMoved = states.some((state) => permissionChanged(state.get(object.key)?.etag, object.etag));
      if (error instanceof PermissionError || permissionMoved) revoked.push(object.key);
      failed.push({ key: object.key, error: (error as Error).message });
      log(`ingest: skipped ${object.key}: ${(error as Error).message}`);
      continue;
    }
    const tracked = { ...doc, vectors: new Array<number[]>(doc.chunks.length), remaining: doc.chunks.length };
    for (let chunk = 0; chunk < doc.chunks.length; chunk++) {
      pending.push({ doc: tracked, chunk });
      if (pending.length === models.maxBatch) {
        await queue.put(pending);
        pending = [];
      }
    }
    // Writes slower than embedding must hold the parser back, not pile up in memory.
    while (writesQueued > 2 && !failure) await writing;
  }
  if (pending.length > 0) await queue.put(pending);
  for (let i = 0; i < models.concurrency; i++) await queue.put(null);
  await Promise.all(workers);
  startWrite();
  await writing;
  if (failure) throw failure;

  // A document whose permission cannot be read must not stay readable under its old one.
  const withdrawn = revoked.filter((key) => states.some((state) => state.has(key)));
  if (withdrawn.length > 0) {
    await Promise.all(
      stores.map((store, i) => {
        const ids = withdrawn.flatMap((key) => states[i]!.get(key)?.chunkIds ?? []);
        return store.bulk("removal of documents with an unusable sidecar", [
          ...ids.map((id) => ({ delete: { _index: names.index, _id: id } })),
          ...stateDeletions(names.state, withdrawn),
        ]);
      }),
    );
    log(`ingest: removed ${withdrawn.length} document(s) whose sidecar is unusable until it is fixed`);
  }

  await Promise.all(stores.map((s) => s.request(`refresh of ${names.index}`, "POST", `/${names.index}/_refresh`)));
  let swapped = false;
  for (const store of stores) {
    const target = await aliasTarget(store.request, names.alias);
    if (target !== names.index) {
      await swapAlias(store.request, names.alias, names.index);
      swapped = true;
      log(`ingest: ${store.engine} alias ${names.alias} -> ${names.index} (was ${target ?? "none"})`);
    }
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    listed: objects.length,
    unchanged: unchanged.length,
    ingested,
    chunks: chunkCount,
    deleted: gone.length,
    revoked: withdrawn.length,
    failed,
    seconds,
    docsPerSecond: ingested / seconds,
    chunksPerSecond: chunkCount / seconds,
    swapped,
    retired,
  };
}

async function prepare(
  source: DocumentSource,
  object: SourceObject,
  contentEtag: string,
  access: readonly string[],
  chunking: ChunkOptions,
): Promise<PreparedDoc> {
  const parsed = await parseDocument(object.key, await source.get(object.key));
  const texts = chunkText(parsed.text, chunking);
  if (texts.length === 0) throw new Error(`${object.key}: no text`);
  return {
    object,
    chunks: texts.map((text, n) => ({
      id: chunkId(object.key, n),
      text,
      source: {
        [FIELDS.text]: text,
        [FIELDS.title]: parsed.title,
        [FIELDS.sourceKey]: object.key,
        [FIELDS.sourceEtag]: contentEtag,
        [FIELDS.chunkNo]: n,
        [FIELDS.contentType]: parsed.contentType,
        // Identical on both engines and on every chunk of the document.
        [FIELDS.access]: [...access],
      },
    })),
  };
}

async function write(
  stores: readonly [Store, ...Store[]],
  states: readonly Map<string, ObjectState>[],
  names: ReturnType<typeof indexNames>,
  docs: readonly (PreparedDoc & { vectors: number[][] })[],
): Promise<void> {
  const operations = docs.flatMap((doc) =>
    doc.chunks.flatMap((chunk, i) => [
      { index: { _index: names.index, _id: chunk.id } },
      { ...chunk.source, [FIELDS.vector]: doc.vectors[i] },
    ]),
  );
  const newStates: ObjectState[] = docs.map((d) => ({
    key: d.object.key,
    etag: d.object.etag,
    chunkIds: d.chunks.map((c) => c.id),
  }));
  await Promise.all(
    stores.map(async (store, i) => {
      await store.bulk(`indexing into ${names.index}`, operations);
      // Chunks an edited document no longer has.
      const stale = docs.flatMap((d) => {
        const keep = new Set(d.chunks.map((c) => c.id));
        return (states[i]!.get(d.object.key)?.chunkIds ?? []).filter((id) => !keep.has(id));
      });
      await store.bulk("deletion of stale chunks", [
        ...stale.map((id) => ({ delete: { _index: names.index, _id: id } })),
        ...stateOperations(names.state, newStates),
      ]);
    }),
  );
}

const rate = (n: number, started: number) => Math.round(n / ((performance.now() - started) / 1000));
