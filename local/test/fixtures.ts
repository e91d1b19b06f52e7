import type { LocalModels } from "../src/render.ts";

/** What models/ local-models describes (local-models.json), shared by the rendering, loop and promotion tests. */
export const LOCAL_MODELS: LocalModels = {
  embed: { name: "embed", version: "1", dims: 384, mar: "embed.mar" },
  rerank: { name: "rerank", version: "1", mar: "rerank.mar" },
};

/** TorchServe's inference API of the local stack (npm start's port). */
export const INFERENCE = "http://127.0.0.1:8490";
