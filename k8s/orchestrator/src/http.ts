import { Readable } from "node:stream";
import type { ModelTransport } from "@search-backbone/relevance";
import { Agent, request } from "undici";

/**
 * The model endpoints' HTTP transport on the request path: one keep-alive connection pool per origin
 * for the life of the process (undici's `request`, the library under Node's own `fetch`, without the
 * web-streams layer `fetch` adds to every call). Connections are reused across requests, so a call
 * costs no TCP set-up; a timeout aborts the call with a `TimeoutError`. A connection idle for
 * `idleTimeoutMs` is closed (the server's own keep-alive hint can only shorten that).
 */
export function modelTransport(idleTimeoutMs = 30_000, agent = idleAgent(idleTimeoutMs)) {
  const transport: ModelTransport = async (call) => {
    const response = await request(call.url, {
      method: "POST",
      headers: call.headers,
      body: call.body,
      dispatcher: agent,
      ...(call.timeoutMs ? { signal: AbortSignal.timeout(call.timeoutMs) } : {}),
    });
    return { status: response.statusCode, body: await response.body.text() };
  };
  return { transport, close: () => agent.close() };
}

/**
 * A `fetch` for the `openai` SDK (its documented `fetch` client option) on undici's `request` and a
 * keep-alive pool: the SDK still builds the request and parses the SSE stream, but an open stream no
 * longer carries `fetch`'s own request/response state (the Fetch standard's request object with its
 * body source, the fetch controller and its abort listeners), which dominated the memory held per open
 * chat stream. Only what the SDK sends is supported: a string body (JSON); anything else goes to `fetch`.
 */
export function sdkFetch(idleTimeoutMs = 30_000, agent = idleAgent(idleTimeoutMs)) {
  const fetchFn = async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    if ((init.body !== undefined && init.body !== null && typeof init.body !== "string") || input instanceof Request)
      return fetch(input, init);
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((value, name) => {
      headers[name] = value;
    });
    const response = await request(String(input), {
      method: (init.method ?? "GET") as "GET",
      headers,
      body: init.body ?? null,
      dispatcher: agent,
      ...(init.signal ? { signal: init.signal } : {}),
    });
    const responseHeaders = new Headers();
    for (const [name, value] of Object.entries(response.headers)) {
      for (const v of Array.isArray(value) ? value : value === undefined ? [] : [value])
        responseHeaders.append(name, v);
    }
    const empty = response.statusCode === 204 || response.statusCode === 304 || init.method === "HEAD";
    if (empty) await response.body.dump();
    return new Response(empty ? null : (Readable.toWeb(response.body) as ReadableStream<Uint8Array>), {
      status: response.statusCode,
      headers: responseHeaders,
    });
  };
  return { fetch: fetchFn, close: () => agent.close() };
}

function idleAgent(idleTimeoutMs: number): Agent {
  return new Agent({ keepAliveTimeout: idleTimeoutMs, keepAliveMaxTimeout: idleTimeoutMs });
}
