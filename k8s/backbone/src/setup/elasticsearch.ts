import { type ElasticsearchClient, esRequest } from "@search-backbone/engines";
import { esIndexBody, indexNames, type RelevanceProfile } from "@search-backbone/relevance";
import { aliasTarget, esRequester, indexExists, swapAlias } from "./aliases";

export interface ElasticsearchSetup {
  readonly index: string;
  readonly alias: string;
  readonly aliasTarget: string | undefined;
}

/** ES holds only the index: fusion and rerank run in the orchestrator (`fuse`, @search-backbone/relevance). */
export async function setupElasticsearch(
  es: ElasticsearchClient,
  options: { base: string; profile: RelevanceProfile; replicas?: number },
): Promise<ElasticsearchSetup> {
  const names = indexNames(options.base, options.profile);
  const request = esRequester(es);
  if (!(await indexExists(request, names.index))) {
    await esRequest(
      es,
      `creation of index ${names.index}`,
      "PUT",
      `/${names.index}`,
      esIndexBody(options.profile, options.replicas),
    );
  }
  let target = await aliasTarget(request, names.alias);
  if (!target) {
    await swapAlias(request, names.alias, names.index);
    target = names.index;
  }
  return { index: names.index, alias: names.alias, aliasTarget: target };
}
