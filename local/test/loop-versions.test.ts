import { DEFAULT_PROFILE, indexGeneration, type ModelEndpoints } from "@search-backbone/relevance";
import { describe, expect, it } from "vitest";
import { archiveName, nextVersion, predictionsUrl, promotedConfig } from "../src/loop/versions.ts";

const endpoints: ModelEndpoints = {
  embedding: {
    url: "http://127.0.0.1:8090/predictions/embed",
    model: "embed",
    protocol: "contract",
    dims: 384,
    authSecret: null,
  },
  rerank: {
    url: "http://127.0.0.1:8090/predictions/rerank",
    model: "rerank",
    protocol: "contract",
    dims: null,
    authSecret: null,
  },
};
const profile = { ...DEFAULT_PROFILE, embedding: { model: "embed", dims: 384 }, rerank: { model: "rerank" } };

describe("versions", () => {
  it("numbers the next version after the highest numbered one", () => {
    expect(nextVersion(["1"])).toBe("2");
    expect(nextVersion(["1", "3", "2", "canary"])).toBe("4");
    expect(() => nextVersion(["canary"])).toThrow('no numbered version among ["canary"]');
  });

  it("gives each version its own URL and archive", () => {
    expect(predictionsUrl("http://127.0.0.1:8090/", "embed", "2")).toBe("http://127.0.0.1:8090/predictions/embed/2");
    expect(archiveName("embed", "2")).toBe("embed-v2.mar");
  });

  it("a new embedder names its version in the profile, so the index generation changes", () => {
    const next = promotedConfig(profile, endpoints, "http://127.0.0.1:8090", {
      embed: { name: "embed", version: "2" },
    });
    expect(next.profile.embedding).toEqual({ model: "embed-v2", dims: 384 });
    expect(next.endpoints.embedding.url).toBe("http://127.0.0.1:8090/predictions/embed/2");
    expect(next.endpoints.embedding.model).toBe("embed-v2");
    expect(next.endpoints.rerank).toEqual(endpoints.rerank);
    expect(indexGeneration(next.profile)).not.toBe(indexGeneration(profile));
  });

  it("a new reranker alone keeps the index generation", () => {
    const next = promotedConfig(profile, endpoints, "http://127.0.0.1:8090", {
      rerank: { name: "rerank", version: "3" },
    });
    expect(next.profile.rerank.model).toBe("rerank-v3");
    expect(next.endpoints.rerank.url).toBe("http://127.0.0.1:8090/predictions/rerank/3");
    expect(indexGeneration(next.profile)).toBe(indexGeneration(profile));
  });
});
