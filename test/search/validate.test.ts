import { assertValidProfile, enginesLacking, ProfileError, profileProblems } from "@search-backbone/relevance";
import { describe, expect, it } from "vitest";
import { ENDPOINTS, PROFILE, withProfile } from "./profile-fixtures";

describe("profile validation before anything is applied", () => {
  it("accepts the default profile with its endpoints", () => {
    expect(profileProblems(PROFILE, ENDPOINTS)).toEqual([]);
  });

  it("names the field, the value and what was expected for each problem", () => {
    const problems = profileProblems(withProfile({ bm25Weight: 0.5, analyzer: "ik_smart", rerankWindow: 200 }), {
      ...ENDPOINTS,
      embedding: { ...ENDPOINTS.embedding, dims: 1024 },
    });
    expect(problems.map((p) => [p.field, p.value])).toEqual([
      ["vectorWeight", 0.7],
      ["analyzer", "ik_smart"],
      ["rerankWindow", 200],
      ["embedding.dims", 768],
    ]);
    expect(problems[0]!.expected).toContain("got 0.5 + 0.7 = 1.2");
    expect(problems[1]!.expected).toBe("an analyzer both engines have; opensearch lacks it");
  });

  it("knows which engines lack an analyzer", () => {
    expect(enginesLacking("standard")).toEqual([]);
    expect(enginesLacking("ik_max_word")).toEqual(["opensearch"]);
    expect(enginesLacking("klingon")).toEqual(["elasticsearch", "opensearch"]);
  });

  it("throws one error listing every problem", () => {
    expect(() => assertValidProfile(withProfile({ topK: 80 }))).toThrow(ProfileError);
    expect(() => assertValidProfile(withProfile({ topK: 80 }))).toThrow(
      "topK: given 80; expected at most rerankWindow (50)",
    );
  });
});
