import { readFileSync } from "node:fs";
import { Client as ElasticsearchClient } from "@elastic/elasticsearch";
import { Client as OpenSearchClient } from "@opensearch-project/opensearch";

export type { ElasticsearchClient, OpenSearchClient };

export interface EngineConnection {
  readonly url: string;
  readonly username?: string;
  readonly password?: string;
  /** PEM file of the CA that signed the engine's HTTP certificate (OpenSearch on ACK uses its own CA). */
  readonly caFile?: string;
  /**
   * For a request-path caller (the orchestrator): parse responses with plain `JSON.parse` instead of
   * secure-json-parse's scan of every response for `__proto__`/`constructor` keys (the clients' option
   * `disablePrototypePoisoningProtection`; the Elasticsearch client 8.15+ already defaults to it,
   * https://www.elastic.co/docs/reference/elasticsearch/clients/javascript/basic-config, the OpenSearch
   * client does not). Safe where the parsed bodies are only read field by field, never merged into
   * other objects. Batch jobs keep the default.
   */
  readonly lean?: boolean;
  /**
   * Close keep-alive connections idle this long (the Elasticsearch client's undici pool otherwise keeps
   * them 10 minutes, the OpenSearch client's agent indefinitely): a request-path caller that met a
   * burst would hold hundreds of idle sockets to the engine.
   */
  readonly idleTimeoutMs?: number;
}

export function openSearchClient(c: EngineConnection): OpenSearchClient {
  return new OpenSearchClient({
    node: c.url,
    ...(c.username ? { auth: { username: c.username, password: c.password ?? "" } } : {}),
    ...(c.caFile ? { ssl: { ca: readFileSync(c.caFile), rejectUnauthorized: true } } : {}),
    ...(c.lean ? { disablePrototypePoisoningProtection: true } : {}),
    // The client passes these to Node's http(s).Agent, which destroys a free socket when its `timeout`
    // fires (the client's AgentOptions type omits that field of http.AgentOptions).
    ...(c.idleTimeoutMs ? { agent: { keepAlive: true, timeout: c.idleTimeoutMs } as { keepAlive: boolean } } : {}),
    requestTimeout: 60_000,
  });
}

export function elasticsearchClient(c: EngineConnection): ElasticsearchClient {
  return new ElasticsearchClient({
    node: c.url,
    ...(c.username ? { auth: { username: c.username, password: c.password ?? "" } } : {}),
    ...(c.caFile ? { tls: { ca: readFileSync(c.caFile), rejectUnauthorized: true } } : {}),
    ...(c.lean ? { disablePrototypePoisoningProtection: true } : {}),
    ...(c.idleTimeoutMs ? { agent: { keepAliveTimeout: c.idleTimeoutMs, keepAliveMaxTimeout: c.idleTimeoutMs } } : {}),
    requestTimeout: 60_000,
  });
}

/**
 * An engine refused a request. The message quotes the engine's own error body, so a rejected
 * configuration reads exactly as the engine put it.
 */
export class EngineError extends Error {
  constructor(
    readonly engine: "elasticsearch" | "opensearch",
    readonly step: string,
    readonly detail: unknown,
  ) {
    super(`${engine} rejected ${step}: ${typeof detail === "string" ? detail : JSON.stringify(detail)}`);
    this.name = "EngineError";
  }
}

/** The engine's error body from a client error (both clients put it on `meta.body`). */
export function engineErrorBody(error: unknown): unknown {
  const e = error as { meta?: { body?: { error?: unknown } | string }; message?: string };
  const body = e?.meta?.body;
  if (body && typeof body === "object" && "error" in body) return body.error;
  return body ?? e?.message ?? String(error);
}

export async function quoting<T>(engine: EngineError["engine"], step: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof EngineError) throw error;
    throw new EngineError(engine, step, engineErrorBody(error));
  }
}

/** A raw request on the OpenSearch client (ml-commons and pipelines), returning the body. */
export async function osRequest<T = any>(
  os: OpenSearchClient,
  step: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  return quoting("opensearch", step, async () => {
    const response = await os.transport.request({ method, path, ...(body === undefined ? {} : { body: body as any }) });
    return response.body as T;
  });
}

export async function esRequest<T = any>(
  es: ElasticsearchClient,
  step: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  return quoting("elasticsearch", step, async () => {
    return (await es.transport.request({ method, path, ...(body === undefined ? {} : { body: body as any }) })) as T;
  });
}
