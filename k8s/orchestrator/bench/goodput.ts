import { type ChildProcess, spawn } from "node:child_process";
import { loadavg } from "node:os";
import * as path from "node:path";
import { Agent, request } from "undici";
import { cpuMs, hasTaskset, healthy, pct, pinned, startFakes } from "./processes";
import { serviceEnvAgainstFakes } from "./service-env";

/**
 * Goodput under bursts: searches answered within their budget per second, against fakes whose engines
 * serve at most `BENCH_ENGINE_CAPACITY` requests at once (the rest wait, so an overloaded engine
 * answers later, as a real one does). First the closed-loop concurrency is raised until the engines
 * saturate (the best goodput is the reference); then 50, 200 and 1,000 clients search at once for
 * `BENCH_SECONDS`, each honouring Retry-After after a 503. Printed per level: goodput, answers, the
 * refusals, answers after the budget (target: none) and p99 of the answers; the target is goodput at
 * 1,000 at least 80 % of the reference. The same 1,000-client burst is run against the service with
 * its limits lifted, for the collapse the limits prevent.
 * Usage: npm run build && npm run bench:goodput
 */

const BUDGET_MS = 4000;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const CAPACITY = Number(process.env.BENCH_ENGINE_CAPACITY ?? 4);
const QUEUE = Number(process.env.BENCH_QUEUE ?? 16);
const SWEEP = [2, 4, 8, 16, 32];
const BURSTS = [50, 200, 1000];
const SHARE = 0.8;
const KEY = "bench-key-0123456789abcdef0123456789abcdef";
const LAT = {
  model: 20,
  es: 15,
  os: 25,
  fetch: 5,
  firstToken: 30,
  tokenMs: 5,
  tokens: 20,
  dims: 64,
  capacity: CAPACITY,
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Outcome {
  readonly ok: number[];
  refused: number;
  late: number;
  failed: number;
  seconds: number;
  /** The service's CPU time over the level, ms. */
  cpu: number;
}

/** `clients` closed-loop clients for SECONDS; a refused client waits Retry-After before its next search. */
async function burst(service: { url: string; child: ChildProcess }, clients: number, agent: Agent): Promise<Outcome> {
  const base = service.url;
  const ok: number[] = [];
  const outcome = { ok, refused: 0, late: 0, failed: 0, seconds: 0, cpu: 0 };
  const cpu0 = cpuMs(service.child.pid as number);
  const t0 = performance.now();
  const end = t0 + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < end) {
        const s = performance.now();
        let status = 0;
        let retryAfter: number | undefined;
        try {
          const r = await request(`${base}/v1/search`, {
            method: "POST",
            headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
            body: JSON.stringify({ query: "lorem ipsum document" }),
            dispatcher: agent,
          });
          status = r.statusCode;
          if (r.headers["retry-after"] !== undefined) retryAfter = Number(r.headers["retry-after"]);
          const body = (await r.body.json()) as { degraded?: boolean };
          if (status === 200 && body.degraded) status = -1;
        } catch {
          status = -2;
        }
        const took = performance.now() - s;
        if (took > BUDGET_MS) outcome.late++;
        if (status === 200 && took <= BUDGET_MS) ok.push(took);
        else if ((status === 503 || status === 429) && retryAfter !== undefined) {
          // A refusal (the limits' 503 with Retry-After); a 503 without it is a failed search.
          outcome.refused++;
          await sleep(retryAfter * 1000);
        } else if (status !== 200) outcome.failed++;
      }
    }),
  );
  outcome.seconds = (performance.now() - t0) / 1000;
  outcome.cpu = cpuMs(service.child.pid as number) - cpu0;
  return outcome;
}

function line(label: string, o: Outcome): string {
  const goodput = o.ok.length / o.seconds;
  return `${label.padEnd(26)} goodput ${goodput.toFixed(0).padStart(5)}/s  answers ${String(o.ok.length).padStart(6)}  refused ${String(o.refused).padStart(6)}  failed/degraded ${String(o.failed).padStart(5)}  after budget ${String(o.late).padStart(5)}  p99 ${pct(o.ok, 99).toFixed(0).padStart(5)} ms  service CPU ${(o.cpu / 10 / o.seconds).toFixed(0).padStart(3)}%`;
}

async function main() {
  const { child: fakes, urls } = await startFakes(LAT, "1");
  const env = {
    ...process.env,
    ...serviceEnvAgainstFakes(urls, { dims: LAT.dims, apiKey: KEY, folderPrefix: "orch-goodput-" }),
    LOG_LEVEL: "warn",
    RATE_LIMIT_PER_MINUTE: "100000000",
    REQUEST_BUDGET_MS: String(BUDGET_MS),
  };
  const start = async (port: number, limits: Record<string, string>) => {
    const [command, args] = pinned("0", process.execPath, [
      process.env.BENCH_SERVICE_MAIN ?? path.join(__dirname, "../dist/main.js"),
    ]);
    const child = spawn(command, args, { env: { ...env, ...limits, PORT: String(port) }, stdio: "ignore" });
    const url = `http://127.0.0.1:${port}`;
    await healthy(url);
    return { child, url };
  };
  const stop = (child: ChildProcess) =>
    new Promise((resolve) => {
      child.once("exit", resolve);
      child.kill("SIGTERM");
    });
  const agent = new Agent({ connections: 2048, keepAliveTimeout: 60_000 });
  console.log(
    `fakes: engines serve ${CAPACITY} requests at once each (embedding ${LAT.model} ms, Elasticsearch ${LAT.es} ms, OpenSearch ${LAT.os} ms, _mget ${LAT.fetch} ms, rerank ${LAT.model} ms); budget ${BUDGET_MS} ms; ${SECONDS} s per level; service ${hasTaskset ? "pinned to core 0" : "NOT pinned"}, fakes and clients on core 1; load average ${loadavg()[0]?.toFixed(2)}`,
  );
  const limits = {
    ENGINE_MAX_IN_FLIGHT: String(CAPACITY),
    DEPENDENCY_QUEUE_LENGTH: String(QUEUE),
  };
  console.log(`service limits: ENGINE_MAX_IN_FLIGHT=${CAPACITY}, DEPENDENCY_QUEUE_LENGTH=${QUEUE}`);
  const limited = await start(18180, limits);
  await burst(limited, 8, agent); // warm-up
  let reference = 0;
  for (const clients of SWEEP) {
    const o = await burst(limited, clients, agent);
    reference = Math.max(reference, o.ok.length / o.seconds);
    console.log(line(`closed loop ${clients}`, o));
  }
  console.log(`reference: the best goodput of the sweep, ${reference.toFixed(0)}/s`);
  let verdict = "";
  for (const clients of BURSTS) {
    const o = await burst(limited, clients, agent);
    console.log(line(`burst of ${clients}`, o));
    if (clients === 1000) {
      const share = o.ok.length / o.seconds / reference;
      verdict = `goodput at 1,000: ${(share * 100).toFixed(0)}% of the reference (target at least ${SHARE * 100}%: ${share >= SHARE ? "met" : "NOT met"}); answers after the budget: ${o.late} (target 0: ${o.late === 0 ? "met" : "NOT met"})`;
    }
  }
  await stop(limited.child);
  if (process.env.BENCH_UNLIMITED !== "false") {
    const unlimited = await start(18181, { ENGINE_MAX_IN_FLIGHT: "100000", MODEL_MAX_IN_FLIGHT: "100000" });
    await burst(unlimited, 8, agent);
    console.log(line("burst of 1000, no limits", await burst(unlimited, 1000, agent)));
    await stop(unlimited.child);
  }
  console.log(verdict);
  console.log(`load average ${loadavg()[0]?.toFixed(2)} at the end`);
  fakes.disconnect();
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
