import { Lag, startFakeChat, startFakeEngine, startFakeModels } from "./fake-engines";

/**
 * The benchmark's fakes in a process of their own (pinned by run.ts to another core than the
 * service), so they neither share the service's core nor the load generator's event loop. Prints one
 * JSON line with their URLs; over IPC it answers `lag` (how late each fake's timer fired, ms) and
 * takes `firstTokenMs` (the memory measurement holds streams open).
 */
const latency = JSON.parse(process.argv[2] ?? "{}") as {
  model: number;
  es: number;
  os: number;
  firstToken: number;
  tokenMs: number;
  tokens: number;
  dims: number;
  /** `_mget` latency of both engines. */
  fetch: number;
  /** Requests each engine serves at once (the rest wait); unset: unlimited. */
  capacity?: number;
};

async function main() {
  const lags = { models: new Lag(), elasticsearch: new Lag(), opensearch: new Lag(), chat: new Lag() };
  const engineOptions = {
    fetchMs: latency.fetch,
    ...(latency.capacity === undefined ? {} : { capacity: latency.capacity }),
  };
  const chatOptions = { firstTokenMs: latency.firstToken, tokenMs: latency.tokenMs, tokens: latency.tokens };
  const [models, es, os, chat] = await Promise.all([
    startFakeModels(latency.model, lags.models, latency.dims),
    startFakeEngine("elasticsearch", latency.es, lags.elasticsearch, latency.dims, engineOptions),
    startFakeEngine("opensearch", latency.os, lags.opensearch, latency.dims, engineOptions),
    startFakeChat(chatOptions, lags.chat),
  ]);
  process.on("message", (m: { type: string; firstTokenMs?: number }) => {
    if (m.type === "firstTokenMs") chatOptions.firstTokenMs = m.firstTokenMs as number;
    if (m.type === "lag") {
      const samples = Object.fromEntries(Object.entries(lags).map(([name, lag]) => [name, [...lag.samples]]));
      for (const lag of Object.values(lags)) lag.reset();
      process.send?.({ type: "lag", samples });
    }
  });
  process.on("disconnect", () => process.exit(0));
  process.stdout.write(
    `${JSON.stringify({ embeddingUrl: models.embeddingUrl, rerankUrl: models.rerankUrl, es: es.url, os: os.url, chat: chat.baseURL })}\n`,
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
