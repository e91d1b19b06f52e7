import { listen, readBody, sendJson } from "./http-fake";

/**
 * DashScope's OpenAI-compatible chat completions (POST {base}/compatible-mode/v1/chat/completions),
 * streaming as OpenAI does: `data: <chunk JSON>` events, then `data: [DONE]`. The answer cites the
 * sources the system prompt numbers. Faults: `failAfterTokens` cuts the connection mid-stream;
 * `firstTokenMs` and `tokenMs` delay tokens (the benchmark's fixed latency).
 */
export interface ChatFakeOptions {
  readonly apiKey: string;
  firstTokenMs?: number;
  tokenMs?: number;
  failAfterTokens?: number | undefined;
  tokens?: number;
}

export async function startDashScope(options: ChatFakeOptions) {
  const fake = await startChatCompletions(options, {
    path: "/compatible-mode/v1/chat/completions",
    authorization: `Bearer ${options.apiKey}`,
  });
  return { ...fake, baseURL: `${fake.url}/compatible-mode/v1` };
}

/**
 * vLLM's OpenAI-compatible server on PAI-EAS, behind EAS's gateway: POST
 * {endpoint}/api/predict/<service>/v1/chat/completions, where the gateway admits a request only with
 * the service's token as the whole `Authorization` header value (EAS's invocation examples:
 * https://www.alibabacloud.com/help/en/pai/call-via-shared-gateway-public-network-intranet). A
 * `Bearer <token>` header is refused here, so a client that sends DashScope's form fails the test
 * [I: whether EAS's gateway also accepts the Bearer form is unverified; the documented form is sent].
 */
export async function startEasVllm(options: ChatFakeOptions & { readonly service: string }) {
  const base = `/api/predict/${options.service}/v1`;
  const fake = await startChatCompletions(options, { path: `${base}/chat/completions`, authorization: options.apiKey });
  return { ...fake, baseURL: `${fake.url}${base}` };
}

/** One OpenAI-compatible chat completions route with the exact Authorization header it admits. */
async function startChatCompletions(options: ChatFakeOptions, route: { path: string; authorization: string }) {
  const stats = { calls: 0, lastMessages: [] as { role: string; content: string }[], unauthorized: 0 };
  const sleep = (ms: number) => (ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve());
  const fake = await listen(async (req, res) => {
    const body = JSON.parse((await readBody(req)).toString("utf8") || "{}");
    if (req.method !== "POST" || req.url !== route.path)
      return sendJson(res, 404, { error: { message: `no route ${req.method} ${req.url}` } });
    if (req.headers.authorization !== route.authorization) {
      stats.unauthorized++;
      return sendJson(res, 401, { error: { message: "Incorrect API key provided.", code: "invalid_api_key" } });
    }
    if (typeof body.model !== "string" || !Array.isArray(body.messages))
      return sendJson(res, 400, { error: { message: "model and messages are required" } });
    stats.calls++;
    stats.lastMessages = body.messages;
    const sources = (String(body.messages[0]?.content ?? "").match(/^\[(\d+)\]/gm) ?? []).slice(0, 2);
    const count = options.tokens ?? 12;
    const words = Array.from({ length: count }, (_, i) =>
      i === count - 1 ? ` ${sources.join("") || "[none]"}.` : i === 0 ? "According" : ` word${i}`,
    );
    res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache" });
    await sleep(options.firstTokenMs ?? 0);
    for (const [i, word] of words.entries()) {
      if (options.failAfterTokens !== undefined && i >= options.failAfterTokens) {
        // Let the tokens already written reach the client, then cut the connection mid-stream.
        await sleep(50);
        res.destroy();
        return;
      }
      if (i > 0) await sleep(options.tokenMs ?? 0);
      const chunk = {
        id: "chatcmpl-fake",
        object: "chat.completion.chunk",
        created: 0,
        model: body.model,
        choices: [{ index: 0, delta: { content: word }, finish_reason: null }],
      };
      res.write(`data: ${JSON.stringify(chunk)}\n\n`);
    }
    res.write(
      `data: ${JSON.stringify({ id: "chatcmpl-fake", object: "chat.completion.chunk", created: 0, model: body.model, choices: [{ index: 0, delta: {}, finish_reason: "stop" }] })}\n\n`,
    );
    res.end("data: [DONE]\n\n");
  });
  return { ...fake, stats, options };
}
