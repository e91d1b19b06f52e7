import type { ModelEndpoints, RelevanceProfile } from "@search-backbone/relevance";

/**
 * Model versions: TorchServe's numbered versions of one model name, and what the backbone calls a
 * served version. Each served version gets its own versioned URL (`/predictions/<name>/<version>`),
 * so an index generation's vectors stay tied to the model that wrote them whatever TorchServe's
 * default version is, and `embedding.model` (part of the index generation's hash) names the version.
 */

/** The version after every numbered version TorchServe holds for a model. */
export function nextVersion(registered: readonly string[]): string {
  const numbers = registered.filter((v) => /^[0-9]+$/.test(v)).map(Number);
  if (numbers.length === 0) throw new Error(`no numbered version among ${JSON.stringify(registered)}`);
  return String(Math.max(...numbers) + 1);
}

/** The name the profile and endpoints give a served version: what the index `_meta` records. */
export const servedModelName = (name: string, version: string) => `${name}-v${version}`;

export const predictionsUrl = (inference: string, name: string, version: string) =>
  `${inference.replace(/\/+$/, "")}/predictions/${encodeURIComponent(name)}/${encodeURIComponent(version)}`;

/** The archive file of a version in the model store: never the name of the version it replaces. */
export const archiveName = (name: string, version: string) => `${name}-v${version}.mar`;

export interface Promoted {
  readonly name: string;
  readonly version: string;
}

/**
 * The profile and endpoints that serve the promoted versions; the rest stays as it is. A new
 * embedding model changes the index generation (packages/relevance names.ts), a new reranker only the
 * search pipeline and the orchestrator's rerank calls.
 */
export function promotedConfig(
  profile: RelevanceProfile,
  endpoints: ModelEndpoints,
  inference: string,
  promoted: { readonly embed?: Promoted | undefined; readonly rerank?: Promoted | undefined },
): { profile: RelevanceProfile; endpoints: ModelEndpoints } {
  let p = profile;
  let e = endpoints;
  // The profile and the endpoints name each role's model under the same key.
  for (const [kind, role] of [
    ["embed", "embedding"],
    ["rerank", "rerank"],
  ] as const) {
    const version = promoted[kind];
    if (!version) continue;
    const model = servedModelName(version.name, version.version);
    const url = predictionsUrl(inference, version.name, version.version);
    p = { ...p, [role]: { ...p[role], model } };
    e = { ...e, [role]: { ...e[role], model, url } };
  }
  return { profile: p, endpoints: e };
}
