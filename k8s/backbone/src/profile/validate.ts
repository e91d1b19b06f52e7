import { enginesLacking } from "./analyzers";
import type { ModelEndpoints, RelevanceProfile } from "./types";

export interface ProfileProblem {
  /** Dotted path of the offending key, relative to the profile (e.g. "embedding.dims"). */
  readonly field: string;
  readonly value: unknown;
  readonly expected: string;
}

/**
 * Problems that would make the engines rank differently or reject the objects. Checked before
 * anything is applied: by the config loader at `pulumi preview` and again by the setup job.
 */
export function profileProblems(profile: RelevanceProfile, endpoints?: ModelEndpoints): ProfileProblem[] {
  const problems: ProfileProblem[] = [];
  const sum = profile.bm25Weight + profile.vectorWeight;
  if (Math.abs(sum - 1) > 1e-9) {
    problems.push({
      field: "vectorWeight",
      value: profile.vectorWeight,
      expected: `bm25Weight + vectorWeight = 1 (OpenSearch's normalization processor requires it), got ${profile.bm25Weight} + ${profile.vectorWeight} = ${+sum.toFixed(6)}`,
    });
  }
  const lacking = enginesLacking(profile.analyzer);
  if (lacking.length > 0) {
    problems.push({
      field: "analyzer",
      value: profile.analyzer,
      expected: `an analyzer both engines have; ${lacking.join(" and ")} ${lacking.length > 1 ? "lack" : "lacks"} "${profile.analyzer}"`,
    });
  }
  if (endpoints && endpoints.embedding.dims !== profile.embedding.dims) {
    problems.push({
      field: "embedding.dims",
      value: profile.embedding.dims,
      expected: `the dimension the embedding endpoint serves (${endpoints.embedding.dims} for ${endpoints.embedding.model})`,
    });
  }
  if (endpoints && endpoints.embedding.model !== profile.embedding.model) {
    problems.push({
      field: "embedding.model",
      value: profile.embedding.model,
      expected: `the model the embedding endpoint serves (${endpoints.embedding.model})`,
    });
  }
  if (profile.rerankWindow > profile.candidateDepth) {
    problems.push({
      field: "rerankWindow",
      value: profile.rerankWindow,
      expected: `at most candidateDepth (${profile.candidateDepth})`,
    });
  }
  if (profile.topK > profile.rerankWindow) {
    problems.push({ field: "topK", value: profile.topK, expected: `at most rerankWindow (${profile.rerankWindow})` });
  }
  return problems;
}

export class ProfileError extends Error {
  constructor(readonly problems: readonly ProfileProblem[]) {
    super(
      [
        `The relevance profile has ${problems.length} problem(s); nothing was applied:`,
        ...problems.map((p) => `  - ${p.field}: given ${JSON.stringify(p.value)}; expected ${p.expected}`),
      ].join("\n"),
    );
    this.name = "ProfileError";
  }
}

export function assertValidProfile(profile: RelevanceProfile, endpoints?: ModelEndpoints): void {
  const problems = profileProblems(profile, endpoints);
  if (problems.length > 0) throw new ProfileError(problems);
}
