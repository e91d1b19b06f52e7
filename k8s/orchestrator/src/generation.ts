import OpenAI from "openai";
import type { RetrievedHit } from "./retrieval";

/**
 * Answer generation through DashScope's OpenAI-compatible chat completions, with the official
 * `openai` SDK pointed at DashScope's base URL (it parses the upstream SSE stream). The prompt numbers
 * the retrieved chunks [1]..[n] and asks the model to cite them by number.
 */

export interface ChatMessage {
  readonly role: "user" | "assistant" | "system";
  readonly content: string;
}

const STOPWORDS = new Set(
  "a an and are as at be but by can do does for from how i in is it its me my of on or so that the their them then there these they this to was what when where which who why will with you your".split(
    " ",
  ),
);
const words = (text: string) => text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];

/** The words of a text that carry its subject: lower-cased, without stopwords and single letters. */
export const contentWords = (text: string) => words(text).filter((w) => w.length > 1 && !STOPWORDS.has(w));

/**
 * The retrieval query of a multi-turn conversation: the last user turn, followed by the content
 * words of the earlier user turns that it does not repeat (most recent first, at most `extra`), so a
 * follow-up like "and how do I reset it?" still retrieves on the earlier turn's subject. Deterministic
 * and free: no extra model round trip before retrieval.
 */
export function condenseQuery(messages: readonly ChatMessage[], extra = 8): string {
  const users = messages.filter((m) => m.role === "user").map((m) => m.content.trim());
  const last = users.at(-1) ?? "";
  const have = new Set(words(last));
  const carried: string[] = [];
  for (const earlier of users.slice(0, -1).reverse()) {
    for (const word of words(earlier)) {
      if (carried.length >= extra) break;
      if (STOPWORDS.has(word) || have.has(word) || word.length < 3) continue;
      have.add(word);
      carried.push(word);
    }
  }
  return carried.length ? `${last} ${carried.join(" ")}` : last;
}

/**
 * The conversation's turns the prompt carries after its system turn: the user and assistant turns, at
 * most the last 12 (the last being the question). The chat log records the same turns (chat-log.ts).
 */
export const promptTurns = (messages: readonly ChatMessage[]): ChatMessage[] =>
  messages.filter((m) => m.role !== "system").slice(-12);

export function buildPrompt(messages: readonly ChatMessage[], hits: readonly RetrievedHit[]): ChatMessage[] {
  const sources = hits.map((h, i) => `[${i + 1}] ${h.title}\n${h.content}`).join("\n\n");
  const system: ChatMessage = {
    role: "system",
    content:
      "Answer the user's question using only the numbered sources below. Cite every statement with the " +
      "number of its source in square brackets, like [1] or [2][3]. If the sources do not contain the " +
      `answer, say so.\n\nSources:\n${sources || "(none found)"}`,
  };
  // Only the conversation's own turns follow; a caller-supplied system turn cannot replace ours.
  return [system, ...promptTurns(messages)];
}

export interface Generator {
  /** The model that writes the answers, as the chat log names it. */
  readonly model: string;
  stream(messages: ChatMessage[], signal: AbortSignal): AsyncIterable<string>;
}

export class DashScopeGenerator implements Generator {
  private readonly client: OpenAI;

  constructor(
    options: {
      baseURL: string;
      apiKey: string;
      timeoutMs: number;
      fetch?: typeof fetch;
      /**
       * "bearer" (DashScope): `Authorization: Bearer <key>`. "token" (PAI-EAS): the service token as
       * the whole header value, `Authorization: <token>`, as EAS's invocation examples send it
       * (https://www.alibabacloud.com/help/en/pai/call-via-shared-gateway-public-network-intranet).
       */
      authorization?: "bearer" | "token";
    },
    readonly model: string,
    private readonly maxTokens: number,
  ) {
    this.client = new OpenAI({
      baseURL: options.baseURL,
      apiKey: options.apiKey,
      timeout: options.timeoutMs,
      // A retry after tokens were streamed would repeat them; the caller reports the failure instead.
      maxRetries: 0,
      ...(options.fetch ? { fetch: options.fetch } : {}),
      // The SDK's own Bearer header gives way to the headers set here.
      ...(options.authorization === "token" ? { defaultHeaders: { Authorization: options.apiKey } } : {}),
    });
  }

  async *stream(messages: ChatMessage[], signal: AbortSignal): AsyncIterable<string> {
    const stream = await this.client.chat.completions.create(
      { model: this.model, messages, stream: true, max_tokens: this.maxTokens },
      { signal },
    );
    for await (const chunk of stream) {
      const token = chunk.choices[0]?.delta?.content;
      if (token) yield token;
    }
  }
}

/** The chat settings of the service's config (src/config.ts). */
export interface ChatSettings {
  readonly CHAT_BACKEND: "dashscope" | "eas";
  readonly CHAT_MODEL: string;
  readonly CHAT_MAX_TOKENS: number;
  readonly LLM_TIMEOUT_MS: number;
  readonly DASHSCOPE_BASE_URL: string;
  readonly DASHSCOPE_API_KEY?: string | undefined;
  readonly EAS_CHAT_BASE_URL?: string | undefined;
  readonly EAS_CHAT_TOKEN?: string | undefined;
}

/**
 * Who writes chat answers. CHAT_BACKEND=eas: the fine-tuned model on PAI-EAS (vLLM's OpenAI-compatible
 * server), which takes its service token as the Authorization header (config.ts requires both EAS
 * variables then). Otherwise DashScope when its key is set; without one, none: answers are quoted
 * from the citations instead (src/extractive.ts).
 */
export function chatGenerator(config: ChatSettings, fetchImpl?: typeof fetch): Generator | undefined {
  const common = { timeoutMs: config.LLM_TIMEOUT_MS, ...(fetchImpl ? { fetch: fetchImpl } : {}) };
  if (config.CHAT_BACKEND === "eas") {
    if (!config.EAS_CHAT_BASE_URL || !config.EAS_CHAT_TOKEN)
      throw new Error("CHAT_BACKEND=eas needs EAS_CHAT_BASE_URL and EAS_CHAT_TOKEN");
    return new DashScopeGenerator(
      { ...common, baseURL: config.EAS_CHAT_BASE_URL, apiKey: config.EAS_CHAT_TOKEN, authorization: "token" },
      config.CHAT_MODEL,
      config.CHAT_MAX_TOKENS,
    );
  }
  if (!config.DASHSCOPE_API_KEY) return undefined;
  return new DashScopeGenerator(
    { ...common, baseURL: config.DASHSCOPE_BASE_URL, apiKey: config.DASHSCOPE_API_KEY },
    config.CHAT_MODEL,
    config.CHAT_MAX_TOKENS,
  );
}
