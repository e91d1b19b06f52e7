import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { DEFAULT_PROFILE, type ModelEndpoints, type RelevanceProfile } from "@search-backbone/relevance";
import { hashKey } from "../src/plugins/auth";

/** Where the fakes listen (bench/fake-engines.ts): the model endpoints, both engines, the chat API. */
export interface FakeUrls {
  readonly embeddingUrl: string;
  readonly rerankUrl: string;
  readonly es: string;
  readonly os: string;
  readonly chat: string;
}

/**
 * The service's environment against the fakes, shared by the benchmarks and the backpressure test so
 * they measure the same service: the default profile on the fakes' models ("hash" embeddings of
 * `dims`, "overlap" rerank), files in a fresh folder, one API key, and the event log in that folder.
 */
export function serviceEnvAgainstFakes(
  urls: FakeUrls,
  options: { readonly dims: number; readonly apiKey: string; readonly folderPrefix: string },
): Record<string, string> {
  const dir = mkdtempSync(path.join(tmpdir(), options.folderPrefix));
  const file = (name: string, value: unknown) => {
    writeFileSync(path.join(dir, name), JSON.stringify(value));
    return path.join(dir, name);
  };
  const profile: RelevanceProfile = {
    ...DEFAULT_PROFILE,
    embedding: { model: "hash", dims: options.dims },
    rerank: { model: "overlap" },
    candidateDepth: 50,
    rerankWindow: 20,
    topK: 8,
    analyzer: "standard",
  };
  const endpoints: ModelEndpoints = {
    embedding: { url: urls.embeddingUrl, model: "hash", protocol: "contract", dims: options.dims, authSecret: null },
    rerank: { url: urls.rerankUrl, model: "overlap", protocol: "contract", dims: null, authSecret: null },
  };
  return {
    HOST: "127.0.0.1",
    PROFILE_FILE: file("profile.json", profile),
    ENDPOINTS_FILE: file("endpoints.json", endpoints),
    API_KEYS_FILE: file("keys.json", [{ id: "bench", sha256: hashKey(options.apiKey) }]),
    INDEX_ALIAS: "chunks",
    ELASTICSEARCH_URL: urls.es,
    OPENSEARCH_URL: urls.os,
    DASHSCOPE_BASE_URL: urls.chat,
    DASHSCOPE_API_KEY: "sk-bench",
    CHAT_MODEL: "qwen-plus",
    EVENT_LOG_FOLDER: path.join(dir, "events"),
  };
}
