import * as path from "node:path";
import { indexNames, profileProblems } from "@search-backbone/relevance";
import { describe, expect, it } from "vitest";
import { DEFAULT_PORTS, workLayout } from "../src/layout.ts";
import {
  backboneEnv,
  localEndpoints,
  localProfile,
  orchestratorEnv,
  parseLocalModels,
  rerankChoice,
  stackDescription,
} from "../src/render.ts";
import { INFERENCE, LOCAL_MODELS } from "./fixtures.ts";

const MODELS = LOCAL_MODELS;
const ports = { ...DEFAULT_PORTS, orchestrator: 8480 };
const layout = workLayout("/w/.local");

describe("rendering the local stack", () => {
  it("checks local-models.json, naming each bad field", () => {
    expect(() => parseLocalModels("{", "m.json")).toThrow(/^m\.json: not JSON/);
    expect(() =>
      parseLocalModels(JSON.stringify({ embed: { name: "e", version: "1", mar: "e.mar", dims: 0 } }), "m.json"),
    ).toThrow(
      "m.json: rerank.name: expected a non-empty string, got undefined; rerank.version: expected a non-empty string, got undefined; rerank.mar: expected a non-empty string, got undefined; embed.dims: expected a positive integer, got 0",
    );
  });

  it("renders a profile and endpoints setup accepts, on TorchServe's versioned paths", () => {
    const profile = localProfile(MODELS);
    const endpoints = localEndpoints(INFERENCE, MODELS);
    expect(profileProblems(profile, endpoints)).toEqual([]);
    expect(profile.embedding).toEqual({ model: "embed-v1", dims: 384 });
    expect(endpoints.embedding.url).toBe("http://127.0.0.1:8490/predictions/embed/1");
    expect(endpoints.rerank.url).toBe("http://127.0.0.1:8490/predictions/rerank/1");
  });

  it("gives a new model version a new index generation", () => {
    const v2 = { ...MODELS, embed: { ...MODELS.embed, version: "2" } };
    expect(indexNames("a", localProfile(v2)).index).not.toBe(indexNames("a", localProfile(MODELS)).index);
  });

  it("points the backbone jobs at a bucket stand-in whose raw/ is the documents folder", () => {
    const env = backboneEnv({ alias: "docs", ports, layout });
    expect(env).toMatchObject({
      SOURCE_FOLDER: "/w/.local/source",
      RAW_PREFIX: "raw/",
      DEFAULT_ACCESS: "public",
      OPENSEARCH_URL: "http://127.0.0.1:9290",
    });
  });

  it("passes DashScope through only when the user set its key", () => {
    const without = orchestratorEnv({
      alias: "docs",
      ports,
      layout,
      user: { DASHSCOPE_BASE_URL: "http://x" },
      rerank: false,
    });
    expect(Object.keys(without).filter((k) => k.startsWith("DASHSCOPE"))).toEqual([]);
    expect(without).toMatchObject({ AIREC_ENABLED: "false", EVENT_LOG_FOLDER: "/w/.local", HOST: "127.0.0.1" });
    // The chat log lands beside the events, where layout.chatLog says.
    expect(path.join(without.EVENT_LOG_FOLDER!, without.CHAT_LOG_PREFIX!)).toBe(`${layout.chatLog}/`);
    expect(without.CHAT_LOG_ENABLED).toBe("true");
    const off = orchestratorEnv({ alias: "docs", ports, layout, user: { CHAT_LOG_ENABLED: "false" }, rerank: false });
    expect(off.CHAT_LOG_ENABLED).toBe("false");
    const withKey = orchestratorEnv({
      alias: "docs",
      ports,
      layout,
      user: { DASHSCOPE_API_KEY: "k", DASHSCOPE_BASE_URL: "http://x", CHAT_MODEL: "qwen" },
      rerank: true,
    });
    expect(withKey).toMatchObject({ DASHSCOPE_API_KEY: "k", DASHSCOPE_BASE_URL: "http://x", CHAT_MODEL: "qwen" });
    expect([without.RERANK_ENABLED, withKey.RERANK_ENABLED]).toEqual(["false", "true"]);
  });

  it("reranks as local-models.json recommends unless --rerank or --no-rerank says otherwise, and says why", () => {
    const advised = (recommended?: boolean) =>
      parseLocalModels(
        JSON.stringify({
          ...MODELS,
          rerank: { ...MODELS.rerank, ...(recommended === undefined ? {} : { recommended }), evidence: "README#q" },
        }),
        "m.json",
      );
    const off = rerankChoice(undefined, advised(false));
    expect(off.enabled).toBe(false);
    expect(off.reason).toMatch(
      /^off: local-models.json does not recommend the docs-trained reranker \(served as rerank v1\): it lowers held-out MRR@10 \(README#q\)/,
    );
    expect(off.reason).toMatch(/npm start -- --rerank turns it on$/);
    expect(rerankChoice(true, advised(false))).toEqual({
      enabled: true,
      reason:
        "on (--rerank) with rerank v1, although local-models.json does not recommend it: it lowers held-out MRR@10 (README#q)",
    });
    for (const recommended of [true, undefined]) {
      expect(rerankChoice(undefined, advised(recommended)).enabled).toBe(true);
      expect(rerankChoice(false, advised(recommended)).enabled).toBe(false);
    }
    expect(() =>
      parseLocalModels(JSON.stringify({ ...MODELS, rerank: { ...MODELS.rerank, recommended: "no" } }), "m.json"),
    ).toThrow('m.json: rerank.recommended: expected true or false, got "no"');
  });

  it("describes the stack as the shared contract says", () => {
    const d = stackDescription({
      ports,
      layout,
      torchserve: { inference: INFERENCE, management: "http://127.0.0.1:8491" },
      models: MODELS,
      alias: "docs",
      docs: "/d",
    });
    expect(d).toEqual({
      orchestrator: { url: "http://127.0.0.1:8480", apiKeyFile: "/w/.local/api-key" },
      engines: { opensearch: "http://127.0.0.1:9290", elasticsearch: "http://127.0.0.1:9291" },
      torchserve: {
        inference: INFERENCE,
        management: "http://127.0.0.1:8491",
        modelStore: "/w/.local/model-store",
      },
      models: { embed: { name: "embed", version: "1", dims: 384 }, rerank: { name: "rerank", version: "1" } },
      backbone: {
        alias: "docs",
        profileFile: "/w/.local/backbone/profile.json",
        endpointsFile: "/w/.local/backbone/endpoints.json",
        docs: "/d",
      },
      eventLog: "/w/.local/logs/events",
      work: "/w/.local",
    });
  });
});
