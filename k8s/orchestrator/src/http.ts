import { Agent, request } from "undici";
import type { ModelTransport } from "./backbone";

/**
 * The model endpoints' HTTP transport on the request path: one keep-alive connection pool per origin
 * for the life of the process (undici's `request`, the library under Node's own `fetch`, without the
 * web-streams layer `fetch` adds to every call). Connections are reused across requests, so a call
 * costs no TCP set-up; a timeout aborts the call with a `TimeoutError`.
 */
export function modelTransport(agent = new Agent({ keepAliveTimeout: 30_000, keepAliveMaxTimeout: 600_000 })) {
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
