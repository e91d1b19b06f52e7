/** `npm run loop -- [options]`: the loop's command line, checked before anything runs. */

import { eachFlag } from "../flags.ts";

export interface LoopArgs {
  readonly stack: string | undefined;
  /** Queries the traffic script replays (0: no traffic; train on the event log as it is). */
  readonly traffic: number;
  readonly embedSteps: number;
  readonly rerankSteps: number;
  readonly batchSize: number;
  readonly evalPercent: number;
  readonly queryIntervalMs: number;
  readonly help: boolean;
}

export const LOOP_DEFAULTS = {
  traffic: 400,
  embedSteps: 40,
  rerankSteps: 40,
  batchSize: 16,
  evalPercent: 20,
  queryIntervalMs: 1000,
} as const;

export const LOOP_USAGE = `usage: npm run loop -- [--stack <file>] [--traffic <n>] [--embed-steps <n>] [--rerank-steps <n>]
                        [--batch-size <n>] [--eval-percent <p>] [--query-interval-ms <ms>]
  --stack <file>          the running stack's description (default .local/stack.json, written by npm start)
  --traffic <n>           synthetic queries replayed through the public API first (default ${LOOP_DEFAULTS.traffic}; 0: none)
  --embed-steps <n>       embedder fine-tuning steps (default ${LOOP_DEFAULTS.embedSteps})
  --rerank-steps <n>      reranker fine-tuning steps (default ${LOOP_DEFAULTS.rerankSteps})
  --batch-size <n>        training batch size (default ${LOOP_DEFAULTS.batchSize})
  --eval-percent <p>      share of queries held out for evaluation (default ${LOOP_DEFAULTS.evalPercent})
  --query-interval-ms <n> one query of the availability loop every n ms (default ${LOOP_DEFAULTS.queryIntervalMs})`;

export class LoopArgsError extends Error {
  override name = "LoopArgsError";
}

function integer(flag: string, value: string | undefined, min: number, max: number): number {
  const n = Number(value);
  if (value === undefined || !/^[0-9]+$/.test(value) || n < min || n > max) {
    throw new LoopArgsError(
      `${flag}: expected an integer from ${min} to ${max}, got ${value === undefined ? "nothing" : JSON.stringify(value)}`,
    );
  }
  return n;
}

export function parseLoopArgs(argv: readonly string[]): LoopArgs {
  const out: { -readonly [K in keyof LoopArgs]: LoopArgs[K] } = { stack: undefined, ...LOOP_DEFAULTS, help: false };
  eachFlag(argv, (flag, arg, value) => {
    switch (flag) {
      case "--stack": {
        const file = value();
        if (!file || file.startsWith("--"))
          throw new LoopArgsError("--stack: expected the stack.json file, got nothing");
        out.stack = file;
        break;
      }
      case "--traffic":
        out.traffic = integer("--traffic", value(), 0, 100_000);
        break;
      case "--embed-steps":
        out.embedSteps = integer("--embed-steps", value(), 1, 100_000);
        break;
      case "--rerank-steps":
        out.rerankSteps = integer("--rerank-steps", value(), 1, 100_000);
        break;
      case "--batch-size":
        out.batchSize = integer("--batch-size", value(), 2, 1024);
        break;
      case "--eval-percent":
        out.evalPercent = integer("--eval-percent", value(), 1, 99);
        break;
      case "--query-interval-ms":
        out.queryIntervalMs = integer("--query-interval-ms", value(), 50, 600_000);
        break;
      case "--help":
      case "-h":
        out.help = true;
        break;
      default:
        throw new LoopArgsError(`${JSON.stringify(arg)}: unknown argument; see --help`);
    }
  });
  return out;
}
