import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A stand-in for DashScope's OpenAI-compatible chat completions, for the end-to-end test only (the
 * machine cannot reach DashScope): it streams a short answer that cites the first two sources the
 * system prompt numbers, and records what it was sent, so the test can check the prompt carried the
 * passages both engines found. Its answers are never shown as a model's.
 */
export async function startDashScopeFake(apiKey: string) {
  const seen: { messages: { role: string; content: string }[] }[] = [];
  const server = createServer(async (req, res) => {
    const parts: Buffer[] = [];
    for await (const part of req) parts.push(part as Buffer);
    if (req.method !== "POST" || req.url !== "/compatible-mode/v1/chat/completions") {
      res.writeHead(404).end();
      return;
    }
    if (req.headers.authorization !== `Bearer ${apiKey}`) {
      res.writeHead(401, { "content-type": "application/json" }).end('{"error":{"message":"bad key"}}');
      return;
    }
    const body = JSON.parse(Buffer.concat(parts).toString("utf8"));
    seen.push({ messages: body.messages });
    const cited = (String(body.messages[0]?.content ?? "").match(/^\[(\d+)\]/gm) ?? []).slice(0, 2).join("");
    res.writeHead(200, { "content-type": "text/event-stream" });
    for (const word of ["The", " fake", " answer", ` ${cited}.`]) {
      const chunk = {
        id: "fake",
        object: "chat.completion.chunk",
        created: 0,
        model: body.model,
        choices: [{ index: 0, delta: { content: word }, finish_reason: null }],
      };
      res.write(`data: ${JSON.stringify(chunk)}\n\n`);
    }
    res.end("data: [DONE]\n\n");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return {
    baseURL: `http://127.0.0.1:${port}/compatible-mode/v1`,
    seen,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
