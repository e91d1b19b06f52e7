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
    options: { baseURL: string; apiKey: string; timeoutMs: number; fetch?: typeof fetch },
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
