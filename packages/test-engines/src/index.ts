export { type CorpusDoc, corpusDocuments, corpusQueries, simplePdf, writeCorpus } from "./corpus";
export { acquireEngines, ENGINES_SCRIPT, type Engines, stopEngines } from "./engines";
export {
  embed,
  type ModelServer,
  type ModelServerOptions,
  rerankScore,
  startModelServer,
} from "./model-server";
