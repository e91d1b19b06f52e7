import * as path from "node:path";

/**
 * Where the local stack listens and keeps its files. Engine ports are not the suites'
 * (9250/9260 search, 9270/9280 orchestrator), so a stack and a test run never meet.
 */
export interface Ports {
  readonly orchestrator: number;
  readonly opensearch: number;
  readonly opensearchTransport: number;
  readonly elasticsearch: number;
  readonly elasticsearchTransport: number;
  readonly inference: number;
  readonly management: number;
  readonly metrics: number;
}

export const DEFAULT_PORTS: Omit<Ports, "orchestrator"> = {
  opensearch: 9290,
  opensearchTransport: 9390,
  elasticsearch: 9291,
  elasticsearchTransport: 9391,
  inference: 8490,
  management: 8491,
  metrics: 8492,
};

export const PORT_NAMES: Record<keyof Ports, string> = {
  orchestrator: "the orchestrator (the page)",
  opensearch: "OpenSearch HTTP",
  opensearchTransport: "OpenSearch transport",
  elasticsearch: "Elasticsearch HTTP",
  elasticsearchTransport: "Elasticsearch transport",
  inference: "TorchServe inference",
  management: "TorchServe management",
  metrics: "TorchServe metrics",
};

/** Files of one stack under its work folder (`.local` for `npm start`). */
export function workLayout(work: string) {
  const at = (...parts: string[]) => path.join(work, ...parts);
  return {
    work,
    setupStamp: at("setup.stamp"),
    engines: at("engines"),
    modelStore: at("model-store"),
    torchserve: at("torchserve"),
    backbone: at("backbone"),
    /** SOURCE_FOLDER of the backbone's ingestion; its raw/ links to the documents folder. */
    source: at("source"),
    profileFile: at("backbone", "profile.json"),
    endpointsFile: at("backbone", "endpoints.json"),
    apiKeysFile: at("orchestrator", "api-keys.json"),
    apiKeyFile: at("api-key"),
    /** The bucket root the orchestrator writes its event log under (EVENT_LOG_FOLDER). */
    bucket: work,
    /** logs/events/dt=YYYY-MM-DD/hour=HH/*.jsonl.gz, the OSS layout models/ prepare reads. */
    eventLog: at("logs", "events"),
    /** logs/chat/dt=YYYY-MM-DD/hour=HH/*.jsonl.gz: one line per answered chat turn, what prepare-chat reads. */
    chatLog: at("logs", "chat"),
    runLogs: at("run"),
    stackFile: at("stack.json"),
  };
}

export type WorkLayout = ReturnType<typeof workLayout>;
