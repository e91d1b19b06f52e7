import { readFileSync } from "node:fs";

/**
 * The running local stack as `npm start` describes it in `.local/stack.json` (the contract between
 * `npm start`, the loop and the end-to-end test). Checked field by field before the loop does
 * anything, so a stale or hand-edited file fails with the field, the value and what was expected.
 */
export interface Stack {
  readonly orchestrator: { readonly url: string; readonly apiKeyFile: string };
  readonly engines: { readonly opensearch: string; readonly elasticsearch: string };
  readonly torchserve: { readonly inference: string; readonly management: string; readonly modelStore: string };
  readonly models: {
    readonly embed: { readonly name: string; readonly version: string; readonly dims: number };
    readonly rerank: { readonly name: string; readonly version: string };
  };
  readonly backbone: {
    readonly alias: string;
    readonly profileFile: string;
    readonly endpointsFile: string;
    readonly docs: string;
  };
  readonly eventLog: string;
  readonly work: string;
}

export class StackError extends Error {
  override name = "StackError";
}

type Check = (value: unknown, field: string) => unknown;

const describe = (value: unknown) => (value === undefined ? "nothing" : JSON.stringify(value));

const url: Check = (value, field) => {
  if (typeof value === "string" && /^https?:\/\/[^/\s]+(\/.*)?$/.test(value)) return value.replace(/\/+$/, "");
  throw new StackError(`${field} is ${describe(value)}; expected an http(s) URL`);
};
const absolute: Check = (value, field) => {
  if (typeof value === "string" && value.startsWith("/")) return value;
  throw new StackError(`${field} is ${describe(value)}; expected an absolute path`);
};
const text: Check = (value, field) => {
  if (typeof value === "string" && value.trim() !== "") return value;
  throw new StackError(`${field} is ${describe(value)}; expected a non-empty string`);
};
const version: Check = (value, field) => {
  if (typeof value === "string" && /^[0-9]+$/.test(value)) return value;
  throw new StackError(`${field} is ${describe(value)}; expected a version number as a string, e.g. "1"`);
};
const dims: Check = (value, field) => {
  if (typeof value === "number" && Number.isInteger(value) && value > 0) return value;
  throw new StackError(`${field} is ${describe(value)}; expected a positive integer`);
};

const SHAPE = {
  orchestrator: { url, apiKeyFile: absolute },
  engines: { opensearch: url, elasticsearch: url },
  torchserve: { inference: url, management: url, modelStore: absolute },
  models: { embed: { name: text, version, dims }, rerank: { name: text, version } },
  backbone: { alias: text, profileFile: absolute, endpointsFile: absolute, docs: absolute },
  eventLog: absolute,
  work: absolute,
} as const;

type Shape = { readonly [key: string]: Check | Shape };

function check(shape: Shape, value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new StackError(`${path || "the file"} is ${describe(value)}; expected an object`);
  }
  const record = value as Record<string, unknown>;
  const out: Record<string, unknown> = { ...record };
  for (const [key, rule] of Object.entries(shape)) {
    const field = path ? `${path}.${key}` : key;
    out[key] = typeof rule === "function" ? rule(record[key], field) : check(rule, record[key], field);
  }
  return out;
}

/** The stack description from its JSON text; `where` names the file in messages. */
export function parseStack(json: string, where: string): Stack {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    throw new StackError(`${where}: not JSON (${(error as Error).message}); was it written by npm start?`);
  }
  try {
    return check(SHAPE, value, "") as unknown as Stack;
  } catch (error) {
    throw new StackError(`${where}: ${(error as Error).message}`);
  }
}

export function readStack(file: string): Stack {
  let json: string;
  try {
    json = readFileSync(file, "utf8");
  } catch (error) {
    throw new StackError(
      `${file}: cannot read the stack description (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); start the stack first with npm start`,
    );
  }
  return parseStack(json, file);
}
