/**
 * The check and diff halves every dynamic provider shares. Problems are texts that start with the
 * field they concern ("podCount: expected …", "purchase.quota.qps: expected …", "scenes[0]: …"),
 * so one list serves both the error message and the engine's per-property failure.
 */

export interface CheckFailure {
  readonly property: string;
  readonly reason: string;
}

/** The top-level input a problem is about: its text up to the first ":", "." or "[". */
export function problemProperty(problem: string): string {
  return problem.split(/[:.[]/)[0] ?? "";
}

/** A provider's check result: the inputs unchanged, one failure per problem. */
export function checkResult<T>(inputs: T, problems: readonly string[]): { inputs: T; failures: CheckFailure[] } {
  return { inputs, failures: problems.map((reason) => ({ property: problemProperty(reason), reason })) };
}

/** The keys whose values differ between olds and news (compared as JSON), in the order given. */
export function changedKeys(olds: object, news: object, keys: readonly string[]): string[] {
  const before = olds as Record<string, unknown>;
  const after = news as Record<string, unknown>;
  return keys.filter((key) => JSON.stringify(before[key]) !== JSON.stringify(after[key]));
}
