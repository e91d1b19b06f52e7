import { stateId } from "./chunk";
import type { Store } from "./stores";

/**
 * Per-engine ingestion state, in an index beside the chunks of the same generation: for each OSS
 * object its ETag and chunk ids. It is written only after that engine has acknowledged the chunks,
 * so a crash leaves at worst objects that are redone on the next run (writes are idempotent by id).
 */
export interface ObjectState {
  readonly key: string;
  readonly etag: string;
  readonly chunkIds: readonly string[];
}

const STATE_MAPPING = {
  settings: { number_of_shards: 1, number_of_replicas: 0 },
  mappings: {
    dynamic: "strict",
    properties: {
      key: { type: "keyword" },
      etag: { type: "keyword" },
      chunk_ids: { type: "keyword", index: false },
      updated_at: { type: "date" },
    },
  },
};

export async function ensureStateIndex(store: Store, index: string): Promise<void> {
  const found = await store.request<{ indices?: unknown[] }>(
    `lookup of ${index}`,
    "GET",
    `/_resolve/index/${index}?ignore_unavailable=true&allow_no_indices=true`,
  );
  if ((found.indices ?? []).length === 0) {
    await store.request(`creation of state index ${index}`, "PUT", `/${index}`, STATE_MAPPING);
  }
}

export async function readState(store: Store, index: string): Promise<Map<string, ObjectState>> {
  const state = new Map<string, ObjectState>();
  // State written just before a crash may not be searchable yet; refresh so it is not redone.
  await store.request(`refresh of ${index}`, "POST", `/${index}/_refresh`);
  let after: unknown[] | undefined;
  for (;;) {
    const page = await store.request<any>(`read of ${index}`, "POST", `/${index}/_search`, {
      size: 1000,
      sort: [{ key: "asc" }],
      ...(after ? { search_after: after } : {}),
    });
    const hits = page.hits?.hits ?? [];
    for (const h of hits) {
      state.set(h._source.key, { key: h._source.key, etag: h._source.etag, chunkIds: h._source.chunk_ids ?? [] });
    }
    if (hits.length < 1000) return state;
    after = hits[hits.length - 1].sort;
  }
}

export function stateOperations(index: string, states: readonly ObjectState[], now = new Date()): object[] {
  return states.flatMap((s) => [
    { index: { _index: index, _id: stateId(s.key) } },
    { key: s.key, etag: s.etag, chunk_ids: s.chunkIds, updated_at: now.toISOString() },
  ]);
}

export function stateDeletions(index: string, keys: readonly string[]): object[] {
  return keys.map((key) => ({ delete: { _index: index, _id: stateId(key) } }));
}
