export {
  CHINESE_CORPUS_SCRIPT,
  chineseCorpusFolder,
  chineseDocuments,
  chineseQueries,
  parseFortunes,
} from "./chinese-corpus";
export { type CorpusDoc, corpusDocuments, corpusQueries, simplePdf, writeCorpus } from "./corpus";
export { type ChatFakeOptions, startDashScope, startEasVllm } from "./dashscope";
export { acquireEngines, ENGINES_SCRIPT, type Engines, stopEngines } from "./engines";
export { listen, readBody, sendJson } from "./http-fake";
export {
  embed,
  type ModelServer,
  type ModelServerOptions,
  rerankScore,
  startModelServer,
} from "./model-server";
