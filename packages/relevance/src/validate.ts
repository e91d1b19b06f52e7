import { enginesLacking } from "./analyzers";
import type { ModelEndpoints } from "./endpoints";
import type { RelevanceProfile } from "./types";

export interface ProfileProblem {
  /** Dotted path of the offending key, relative to the profile (e.g. "embedding.dims"). */
  readonly field: string;
  readonly value: unknown;
  readonly expected: string;
}

/** A profile whose keys may not have their types yet: the stack's config rules run on unvalidated input. */
export type LooseProfile = { readonly [K in keyof RelevanceProfile]?: unknown };

const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);

/**
 * Problems of the profile alone that would make the engines rank differently or reject the objects.
 * A check whose keys are not (yet) of their type is skipped: whoever validated the shape reports
 * those. The stack's config rules (stacks/config/rules.ts) run these at `pulumi preview`, the Search
 * component and the setup job run them again with the endpoints (`profileProblems`).
 */
export function profileOnlyProblems(profile: LooseProfile): ProfileProblem[] {
  const problems: ProfileProblem[] = [];
  const bm25 = num(profile.bm25Weight);
  const vector = num(profile.vectorWeight);
  // OpenSearch's normalization processor rejects weights that do not sum to 1.
  if (bm25 !== undefined && vector !== undefined && Math.abs(bm25 + vector - 1) > 1e-9) {
    problems.push({
      field: "vectorWeight",
      value: vector,
      expected: `bm25Weight + vectorWeight to sum to 1, got ${bm25} + ${vector} = ${+(bm25 + vector).toFixed(6)}`,
    });
  }
  if (typeof profile.analyzer === "string") {
    const lacking = enginesLacking(profile.analyzer);
    if (lacking.length > 0) {
      problems.push({
        field: "analyzer",
        value: profile.analyzer,
        expected: `an analyzer both engines have; ${lacking.join(" and ")} ${lacking.length > 1 ? "lack" : "lacks"} it`,
      });
    }
  }
  const depth = num(profile.candidateDepth);
  const window = num(profile.rerankWindow);
  const topK = num(profile.topK);
  if (window !== undefined && depth !== undefined && window > depth) {
    problems.push({ field: "rerankWindow", value: window, expected: `at most candidateDepth (${depth})` });
  }
  if (topK !== undefined && window !== undefined && topK > window) {
    problems.push({ field: "topK", value: topK, expected: `at most rerankWindow (${window})` });
  }
  return problems;
}

/** The profile's own problems, then those against the endpoints that will serve it, when given. */
export function profileProblems(profile: RelevanceProfile, endpoints?: ModelEndpoints): ProfileProblem[] {
  const problems = profileOnlyProblems(profile);
  if (endpoints && endpoints.embedding.dims !== null && endpoints.embedding.dims !== profile.embedding.dims) {
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
