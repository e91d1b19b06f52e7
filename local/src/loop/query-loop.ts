import type { Api, SearchAnswer } from "./api.ts";

/**
 * Queries through the public API for as long as the loop runs, without a user id (so they leave no
 * training events): the proof that search keeps answering while models are retrained, served,
 * re-embedded into a new index generation and swapped in.
 */

export interface QueryRecord {
  readonly at: number;
  readonly query: string;
  readonly hits?: number;
  readonly degraded?: boolean;
  /** The warnings' dependencies, e.g. "opensearch" when an index expected another embedding model. */
  readonly warnings?: readonly string[];
  readonly error?: string;
}

export interface QuerySummary {
  readonly queries: number;
  readonly answered: number;
  readonly errors: number;
  readonly hits: { readonly min: number; readonly median: number; readonly max: number } | undefined;
  readonly zeroHits: number;
  readonly degraded: number;
  readonly warnings: Readonly<Record<string, number>>;
  readonly errorMessages: Readonly<Record<string, number>>;
}

export function summariseQueries(records: readonly QueryRecord[]): QuerySummary {
  const answered = records.filter((r) => r.error === undefined);
  const hits = answered.map((r) => r.hits ?? 0).sort((a, b) => a - b);
  const count = (keys: string[]) => {
    const out: Record<string, number> = {};
    for (const k of keys) out[k] = (out[k] ?? 0) + 1;
    return out;
  };
  return {
    queries: records.length,
    answered: answered.length,
    errors: records.length - answered.length,
    hits:
      hits.length > 0
        ? {
            min: hits[0] as number,
            median: hits[Math.floor((hits.length - 1) / 2)] as number,
            max: hits.at(-1) as number,
          }
        : undefined,
    zeroHits: hits.filter((h) => h === 0).length,
    degraded: answered.filter((r) => r.degraded).length,
    warnings: count(answered.flatMap((r) => [...new Set(r.warnings ?? [])])),
    errorMessages: count(records.flatMap((r) => (r.error === undefined ? [] : [r.error.slice(0, 160)]))),
  };
}

export function summaryLines(s: QuerySummary): string[] {
  const hits = s.hits
    ? `hits per answer min ${s.hits.min} / median ${s.hits.median} / max ${s.hits.max}`
    : "no answers";
  const lines = [
    `${s.queries} queries, ${s.answered} answered, ${s.errors} errors (target 0); ${hits}; ${s.zeroHits} with no hit`,
    `${s.degraded} answers degraded${Object.keys(s.warnings).length ? ` (warnings by dependency: ${JSON.stringify(s.warnings)})` : ""}`,
  ];
  for (const [message, n] of Object.entries(s.errorMessages)) lines.push(`error x${n}: ${message}`);
  return lines;
}

export interface QueryLoop {
  readonly records: QueryRecord[];
  stop(): Promise<void>;
}

/** One search every `intervalMs` (the next starts when the previous has answered and the interval has passed). */
export function startQueryLoop(api: Api, queries: readonly string[], intervalMs: number): QueryLoop {
  if (queries.length === 0) throw new Error("the query loop needs at least one query");
  const records: QueryRecord[] = [];
  let stopped = false;
  let wake: (() => void) | undefined;
  const run = (async () => {
    for (let i = 0; !stopped; i++) {
      const query = queries[i % queries.length] as string;
      const started = performance.now();
      try {
        const answer: SearchAnswer = await api.search(query);
        records.push({
          at: Date.now(),
          query,
          hits: answer.results.length,
          degraded: answer.degraded,
          warnings: answer.warnings.map((w) => w.dependency),
        });
      } catch (error) {
        records.push({ at: Date.now(), query, error: (error as Error).message });
      }
      const wait = intervalMs - (performance.now() - started);
      if (wait > 0 && !stopped) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, wait);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    }
  })();
  return {
    records,
    stop: async () => {
      stopped = true;
      wake?.();
      await run;
    },
  };
}
