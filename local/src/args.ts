/** `npm start -- [--docs <folder>] [--port <n>] [--rerank|--no-rerank]`: the command line of the local stack, checked before anything starts. */

import { eachFlag } from "./flags.ts";

export interface StartArgs {
  /** A folder of the user's own documents; absent means the sample corpus. */
  readonly docs: string | undefined;
  /** The orchestrator's port on 127.0.0.1 (the page's address). */
  readonly port: number;
  /** Rerank search results (true), never (false), or as local-models.json recommends (undefined). */
  readonly rerank: boolean | undefined;
  readonly help: boolean;
}

export const DEFAULT_PORT = 8480;

export const USAGE = `usage: npm start -- [--docs <folder>] [--port <n>] [--rerank | --no-rerank]
  --docs <folder>  index this folder of documents (.txt .md .html .pdf ...) instead of the sample corpus
  --port <n>       serve the orchestrator and its page on 127.0.0.1:<n> (default ${DEFAULT_PORT})
  --rerank         rerank search results with the served reranker even where local-models.json
                   does not recommend it (the docs-trained one lowers held-out MRR@10; models/README.md)
  --no-rerank      never rerank (default: as local-models.json recommends)`;

export class ArgsError extends Error {
  override name = "ArgsError";
}

function port(flag: string, value: string | undefined): number {
  if (value === undefined || value.startsWith("--"))
    throw new ArgsError(`${flag}: expected a port number, got nothing`);
  const n = Number(value);
  if (!/^[0-9]+$/.test(value) || n < 1 || n > 65535) {
    throw new ArgsError(`${flag}: expected a port number from 1 to 65535, got ${JSON.stringify(value)}`);
  }
  return n;
}

export function parseArgs(argv: readonly string[]): StartArgs {
  let docs: string | undefined;
  let listen = DEFAULT_PORT;
  let help = false;
  let rerank: boolean | undefined;
  eachFlag(argv, (flag, arg, value, inline) => {
    switch (flag) {
      case "--docs": {
        const folder = value();
        if (!folder || folder.startsWith("--"))
          throw new ArgsError("--docs: expected a folder of documents, got nothing");
        docs = folder;
        break;
      }
      case "--port":
        listen = port("--port", value());
        break;
      case "--rerank":
      case "--no-rerank":
        if (inline !== undefined) throw new ArgsError(`${flag}: takes no value, got ${JSON.stringify(inline)}`);
        if (rerank !== undefined && rerank !== (flag === "--rerank"))
          throw new ArgsError(`${flag}: contradicts ${rerank ? "--rerank" : "--no-rerank"}; give one of them`);
        rerank = flag === "--rerank";
        break;
      case "--help":
      case "-h":
        help = true;
        break;
      default:
        throw new ArgsError(
          `${JSON.stringify(arg)}: unknown argument; expected --docs <folder>, --port <n>, --rerank or --no-rerank`,
        );
    }
  });
  return { docs, port: listen, rerank, help };
}
