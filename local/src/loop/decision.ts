/**
 * Promote only a better model: the candidate must beat the serving version on the primary held-out
 * metric, by more than a rounding tolerance, without losing on any other metric both report. A tie is
 * not a win: a retrained model that is merely as good costs a re-embedding and risks drift for nothing.
 */

export type Metrics = Readonly<Record<string, number>>;

export interface MetricRow {
  readonly metric: string;
  readonly serving: number;
  readonly candidate: number;
  readonly delta: number;
}

export interface Decision {
  readonly promote: boolean;
  /** One sentence with the figures: why it is or is not promoted. */
  readonly reason: string;
  readonly primary: string;
  readonly rows: readonly MetricRow[];
  readonly queries: number;
}

export interface DecisionInput {
  readonly kind: string;
  readonly serving: Metrics;
  readonly candidate: Metrics;
  /** The metric that must improve, e.g. "ndcg@10". */
  readonly primary: string;
  /** Differences within this are ties (the metrics are means of floats). */
  readonly tolerance?: number;
}

const QUERIES = "queries";

const f = (n: number) => n.toFixed(4);
const signed = (n: number) => `${n >= 0 ? "+" : ""}${n.toFixed(4)}`;

function figure(metrics: Metrics, name: string, side: string, kind: string): number {
  const value = metrics[name];
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new Error(`${kind} ${side} metrics: '${name}' is ${JSON.stringify(value)}; expected a finite number`);
  }
  return value;
}

export function decidePromotion(input: DecisionInput): Decision {
  const { kind, serving, candidate, primary } = input;
  const tolerance = input.tolerance ?? 1e-9;
  const queries = figure(serving, QUERIES, "serving", kind);
  const candidateQueries = figure(candidate, QUERIES, "candidate", kind);
  figure(serving, primary, "serving", kind);
  figure(candidate, primary, "candidate", kind);
  const names = [primary, ...Object.keys(serving).filter((m) => m !== primary && m !== QUERIES && m in candidate)];
  const rows = names.map((metric) => {
    const s = figure(serving, metric, "serving", kind);
    const c = figure(candidate, metric, "candidate", kind);
    return { metric, serving: s, candidate: c, delta: c - s };
  });
  const base = { primary, rows, queries };
  if (queries !== candidateQueries) {
    return {
      ...base,
      promote: false,
      reason: `${kind}: not promoted: the two evaluations saw different held-out sets (${queries} vs ${candidateQueries} queries)`,
    };
  }
  const head = rows[0] as MetricRow;
  if (head.delta <= tolerance) {
    const how = Math.abs(head.delta) <= tolerance ? "ties" : "is worse than";
    return {
      ...base,
      promote: false,
      reason: `${kind}: not promoted: ${primary} ${f(head.candidate)} ${how} the serving ${f(head.serving)} (${signed(head.delta)}) over ${queries} held-out queries`,
    };
  }
  const worse = rows.slice(1).filter((r) => r.delta < -tolerance);
  if (worse.length > 0) {
    const list = worse.map((r) => `${r.metric} ${f(r.candidate)} < ${f(r.serving)} (${signed(r.delta)})`).join(", ");
    return {
      ...base,
      promote: false,
      reason: `${kind}: not promoted: ${primary} improves (${signed(head.delta)}) but ${list} over ${queries} held-out queries`,
    };
  }
  return {
    ...base,
    promote: true,
    reason: `${kind}: promoted: ${primary} ${f(head.candidate)} beats the serving ${f(head.serving)} (${signed(head.delta)}) with no other metric worse, over ${queries} held-out queries`,
  };
}

/** The figures as aligned lines: metric, serving, candidate, difference. */
export function decisionTable(decision: Decision): string[] {
  return decision.rows.map(
    (r) => `${r.metric.padEnd(10)} serving ${f(r.serving)}  new ${f(r.candidate)}  ${signed(r.delta)}`,
  );
}
