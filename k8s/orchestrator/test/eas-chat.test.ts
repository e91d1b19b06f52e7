import { startEasVllm } from "@search-backbone/test-engines";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ChatSettings, chatGenerator } from "../src/generation";
import { AUTH, injectApp } from "./inject-harness";

/**
 * chat.backend eas: the orchestrator's chat against a loopback fake of vLLM's OpenAI-compatible
 * server behind PAI-EAS's gateway, which admits only `Authorization: <service token>`.
 */

const TOKEN = "ZWFzLXNlcnZpY2UtdG9rZW4tZm9yLXRlc3Rz==";
let eas: Awaited<ReturnType<typeof startEasVllm>>;
beforeAll(async () => {
  eas = await startEasVllm({ apiKey: TOKEN, service: "acme_search_dev_chat", tokens: 6 });
});
afterAll(async () => {
  await eas.close();
});

const settings = (change: Partial<ChatSettings> = {}): ChatSettings => ({
  CHAT_BACKEND: "eas",
  CHAT_MODEL: "backbone-chat",
  CHAT_MAX_TOKENS: 200,
  LLM_TIMEOUT_MS: 5000,
  DASHSCOPE_BASE_URL: "https://dashscope.aliyuncs.com/compatible-mode/v1",
  EAS_CHAT_BASE_URL: eas.baseURL,
  EAS_CHAT_TOKEN: TOKEN,
  ...change,
});

describe("chat from the fine-tuned model on PAI-EAS", () => {
  it("answers through /v1/chat with the model on EAS, sending the service token as EAS expects", async () => {
    const calls = eas.stats.calls;
    const generator = chatGenerator(settings());
    const t = await injectApp({ ...(generator ? { generator } : {}) });
    try {
      const reply = await t.app.inject({
        method: "POST",
        url: "/v1/chat",
        headers: AUTH,
        payload: { messages: [{ role: "user", content: "how do I read a file?" }] },
      });
      expect(reply.statusCode).toBe(200);
      const body = reply.json();
      expect(body.answerMode).toBe("llm");
      expect(body.answer).toMatch(/^According word1 word2 word3 word4 \[1\]\[2\]\.$/);
      expect(eas.stats.calls).toBe(calls + 1);
      // The prompt the model saw is the numbered-context one, with the user's question last.
      expect(eas.stats.lastMessages[0]?.content).toMatch(/^\[1\]/m);
      expect(eas.stats.lastMessages.at(-1)).toEqual({ role: "user", content: "how do I read a file?" });
    } finally {
      await t.app.close();
    }
  });

  it("is refused by the gateway with DashScope's Bearer form or a wrong token", async () => {
    const before = eas.stats.unauthorized;
    const bearer = chatGenerator({
      ...settings(),
      CHAT_BACKEND: "dashscope",
      DASHSCOPE_BASE_URL: eas.baseURL,
      DASHSCOPE_API_KEY: TOKEN,
    });
    const wrong = chatGenerator(settings({ EAS_CHAT_TOKEN: "not-the-token" }));
    for (const generator of [bearer, wrong]) {
      const stream = generator?.stream([{ role: "user", content: "hi" }], new AbortController().signal);
      await expect(
        (async () => {
          for await (const _ of stream ?? []) {
            // drained
          }
        })(),
      ).rejects.toThrow(/401/);
    }
    expect(eas.stats.unauthorized).toBe(before + 2);
  });

  it("needs both EAS variables, and chooses DashScope or nothing otherwise", () => {
    expect(() => chatGenerator(settings({ EAS_CHAT_TOKEN: undefined }))).toThrow(
      "CHAT_BACKEND=eas needs EAS_CHAT_BASE_URL and EAS_CHAT_TOKEN",
    );
    expect(chatGenerator({ ...settings(), CHAT_BACKEND: "dashscope", DASHSCOPE_API_KEY: undefined })).toBeUndefined();
  });
});
