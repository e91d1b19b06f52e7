import { indexGeneration } from "@search-backbone/relevance";
import { describe, expect, it } from "vitest";
import { archiveName, nextVersion, predictionsUrl, promotedConfig } from "../src/loop/versions.ts";
import { localEndpoints, localProfile } from "../src/render.ts";
import { INFERENCE, LOCAL_MODELS } from "./fixtures.ts";

// The loop starts from what npm start rendered for version 1.
const endpoints = localEndpoints(INFERENCE, LOCAL_MODELS);
const profile = localProfile(LOCAL_MODELS);

describe("versions", () => {
  it("numbers the next version after the highest numbered one", () => {
    expect(nextVersion(["1"])).toBe("2");
    expect(nextVersion(["1", "3", "2", "canary"])).toBe("4");
    expect(() => nextVersion(["canary"])).toThrow('no numbered version among ["canary"]');
  });

  it("gives each version its own URL and archive", () => {
    expect(predictionsUrl(`${INFERENCE}/`, "embed", "2")).toBe("http://127.0.0.1:8490/predictions/embed/2");
    expect(archiveName("embed", "2")).toBe("embed-v2.mar");
  });

  it("a new embedder names its version in the profile, so the index generation changes", () => {
    const next = promotedConfig(profile, endpoints, INFERENCE, {
      embed: { name: "embed", version: "2" },
    });
    expect(next.profile.embedding).toEqual({ model: "embed-v2", dims: 384 });
    expect(next.endpoints.embedding.url).toBe(`${INFERENCE}/predictions/embed/2`);
    expect(next.endpoints.embedding.model).toBe("embed-v2");
    expect(next.endpoints.rerank).toEqual(endpoints.rerank);
    expect(indexGeneration(next.profile)).not.toBe(indexGeneration(profile));
  });

  it("a new reranker alone keeps the index generation", () => {
    const next = promotedConfig(profile, endpoints, INFERENCE, {
      rerank: { name: "rerank", version: "3" },
    });
    expect(next.profile.rerank.model).toBe("rerank-v3");
    expect(next.endpoints.rerank.url).toBe(`${INFERENCE}/predictions/rerank/3`);
    expect(indexGeneration(next.profile)).toBe(indexGeneration(profile));
  });
});
