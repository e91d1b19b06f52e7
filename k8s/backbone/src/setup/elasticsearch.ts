import { type ElasticsearchClient, esRequest } from "@search-backbone/engines";
import {
  engagementIndex,
  engagementIndexBody,
  esIndexBody,
  indexNames,
  type RelevanceProfile,
} from "@search-backbone/relevance";
import { aliasTarget, esRequester, indexExists, swapAlias } from "./aliases";

export interface ElasticsearchSetup {
  readonly index: string;
  readonly alias: string;
  readonly aliasTarget: string | undefined;
  /** The orchestrator's engagement index (shared by its replicas), created here once and kept. */
  readonly engagement: string;
}

/**
 * ES holds the chunk index (fusion and rerank run in the orchestrator: `fuse`, @search-backbone/relevance)
 * and the orchestrator's engagement index. Setup creates that one, with its admin user, so the
 * service's own engine user needs only read and write on it, not the right to create indices.
 */
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
  const engagement = engagementIndex(options.base);
  if (!(await indexExists(request, engagement)))
    await esRequest(
      es,
      `creation of index ${engagement}`,
      "PUT",
      `/${engagement}`,
      engagementIndexBody(options.replicas),
    );
  return { index: names.index, alias: names.alias, aliasTarget: target, engagement };
}
