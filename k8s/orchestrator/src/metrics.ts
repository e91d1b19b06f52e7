import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/** Every figure /metrics serves, on one registry per server (tests build several servers in one process). */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // Read at scrape time, so the request path pays nothing for them.
  const limiters: { name: string; inFlight: number; queued: number }[] = [];
  return {
    registry,
    /** The dependency limiters (src/limits.ts) whose state /metrics reports. */
    limiters,
    dependencyQueued: new Gauge({
      name: "orchestrator_dependency_queued_calls",
      help: "Calls waiting for a slot, by dependency",
      labelNames: ["dependency"],
      registers: [registry],
      collect() {
        for (const l of limiters) this.set({ dependency: l.name }, l.queued);
      },
    }),
    dependencyInFlight: new Gauge({
      name: "orchestrator_dependency_in_flight_calls",
      help: "Calls running, by dependency",
      labelNames: ["dependency"],
      registers: [registry],
      collect() {
        for (const l of limiters) this.set({ dependency: l.name }, l.inFlight);
      },
    }),
    refusals: new Counter({
      name: "orchestrator_dependency_refusals_total",
      help: "Calls refused for want of a slot (the request answered 503 with Retry-After), by dependency and reason (queue_full, budget)",
      labelNames: ["dependency", "reason"],
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: "orchestrator_http_request_duration_seconds",
      help: "HTTP request duration by route and status",
      labelNames: ["route", "method", "status"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    dependencyDuration: new Histogram({
      name: "orchestrator_dependency_duration_seconds",
      help: "Calls to dependencies by dependency and outcome (ok, error, timeout)",
      labelNames: ["dependency", "outcome"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    degraded: new Counter({
      name: "orchestrator_degraded_responses_total",
      help: "Responses answered without one of their dependencies, by the missing dependency",
      labelNames: ["dependency"],
      registers: [registry],
    }),
    telemetryEvents: new Counter({
      name: "orchestrator_telemetry_events_total",
      help: "Telemetry events by sink and outcome (queued, sent, dropped, refused)",
      labelNames: ["sink", "outcome"],
      registers: [registry],
    }),
    telemetryRetries: new Counter({
      name: "orchestrator_telemetry_retries_total",
      help: "Failed telemetry sends that were retried, by sink",
      labelNames: ["sink"],
      registers: [registry],
    }),
    telemetryBuffered: new Gauge({
      name: "orchestrator_telemetry_buffered_events",
      help: "Events waiting in the telemetry buffer, by sink",
      labelNames: ["sink"],
      registers: [registry],
    }),
    modelInfo: new Gauge({
      name: "orchestrator_model_info",
      help: "The models the service queries with now (1), by role (embedding, rerank) and model; it changes when the model files are reloaded",
      labelNames: ["role", "model"],
      registers: [registry],
    }),
    openStreams: new Gauge({
      name: "orchestrator_open_sse_streams",
      help: "Chat responses currently streaming",
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/** Times one dependency call into dependencyDuration; a rejection is an error or a timeout. */
export async function timed<T>(metrics: Metrics, dependency: string, run: () => Promise<T>): Promise<T> {
  const end = metrics.dependencyDuration.startTimer({ dependency });
  try {
    const result = await run();
    end({ outcome: "ok" });
    return result;
  } catch (error) {
    end({ outcome: isTimeout(error) ? "timeout" : "error" });
    throw error;
  }
}

export function isTimeout(error: unknown): boolean {
  const e = error as { name?: string; message?: string; cause?: { name?: string } };
  return (
    e?.name === "TimeoutError" ||
    e?.name === "AbortError" ||
    e?.cause?.name === "TimeoutError" ||
    /timed? ?out|timeout/i.test(e?.message ?? "")
  );
}
