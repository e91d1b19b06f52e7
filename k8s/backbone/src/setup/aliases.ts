import { type ElasticsearchClient, esRequest, type OpenSearchClient, osRequest } from "@search-backbone/engines";
import { isVersionedIndex } from "@search-backbone/relevance";

/**
 * Alias handling, the same on both engines (both speak the same _alias/_aliases REST API), so it is
 * written once against a tiny request function.
 */
export type Request = <T = any>(step: string, method: string, path: string, body?: unknown) => Promise<T>;

export const osRequester =
  (os: OpenSearchClient): Request =>
  (step, method, path, body) =>
    osRequest(os, step, method, path, body);

export const esRequester =
  (es: ElasticsearchClient): Request =>
  (step, method, path, body) =>
    esRequest(es, step, method, path, body);

/** _resolve/index answers 404 for a missing concrete name unless told otherwise. */
const resolvePath = (name: string) =>
  `/_resolve/index/${encodeURIComponent(name)}?ignore_unavailable=true&allow_no_indices=true`;

export async function indexExists(request: Request, index: string): Promise<boolean> {
  const found = await request<Record<string, unknown>>(`lookup of ${index}`, "GET", resolvePath(index));
  return ((found.indices as unknown[]) ?? []).length > 0;
}

/** The index the alias points at, or undefined when there is no alias yet. */
export async function aliasTarget(request: Request, alias: string): Promise<string | undefined> {
  const found = await request<{ aliases?: { name: string; indices: string[] }[] }>(
    `lookup of alias ${alias}`,
    "GET",
    resolvePath(alias),
  );
  return found.aliases?.find((a) => a.name === alias)?.indices[0];
}

/** Points the alias at `index` in one atomic step, so readers never see no index or two. */
export async function swapAlias(request: Request, alias: string, index: string): Promise<string | undefined> {
  const current = await aliasTarget(request, alias);
  if (current === index) return current;
  const actions: unknown[] = [];
  if (current) actions.push({ remove: { index: current, alias } });
  actions.push({ add: { index, alias, is_write_index: true } });
  await request(`alias swap of ${alias} to ${index}`, "POST", "/_aliases", { actions });
  return current;
}

/**
 * Deletes versioned indices of `base` that are neither the alias target nor `keep`, with their state
 * indices. Called at the start of a run, so an index replaced by a swap is removed one run later.
 */
export async function retireIndices(request: Request, base: string, keep: string): Promise<string[]> {
  const target = await aliasTarget(request, base);
  const listed = await request<{ indices?: { name: string }[] }>(
    `listing of ${base}-*`,
    "GET",
    resolvePath(`${base}-*`),
  );
  const names = (listed.indices ?? []).map((i) => i.name);
  const retired = names.filter((name) => isVersionedIndex(base, name) && name !== target && name !== keep);
  for (const name of retired) {
    const state = name.replace(new RegExp(`^${base}-`), `${base}-state-`);
    await request(`deletion of ${name}`, "DELETE", `/${encodeURIComponent(name)}`);
    if (names.includes(state)) await request(`deletion of ${state}`, "DELETE", `/${encodeURIComponent(state)}`);
  }
  return retired;
}
