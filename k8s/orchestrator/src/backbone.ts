/**
 * The one door to the search backbone's shared code (k8s/backbone/src): the relevance profile's
 * renderers and fusion module, the engine client factories and the model-endpoint client. The
 * orchestrator imports them by relative path instead of keeping copies, so both packages rank with
 * the same code. tsc compiles them with this package (rootDir is k8s/, see tsconfig.build.json) and
 * the Dockerfile builds from the k8s/ folder, copying backbone/src beside orchestrator/src. Only
 * modules whose own imports are the two engine clients (pinned here at the backbone's versions) are
 * used, so the image needs no other backbone dependency.
 */
export {
  type ElasticsearchClient,
  type EngineConnection,
  elasticsearchClient,
  engineErrorBody,
  type OpenSearchClient,
  openSearchClient,
} from "../../backbone/src/engines";
export { ModelClient, type ModelTransport } from "../../backbone/src/model-client";
export {
  esBm25Request,
  esKnnRequest,
  FIELDS,
  type FusedHit,
  fuse,
  fusionSettings,
  type ModelEndpoints,
  osHybridQuery,
  type RelevanceProfile,
  type ScoredHit,
} from "../../backbone/src/profile";
