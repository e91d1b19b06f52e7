import { BatchQueue, type QueueOptions, type Sink } from "./batch-queue";
import { batchKey, encodeBatch, type ObjectStore } from "./event-log";
import { type ChatMessage, promptTurns } from "./generation";

/**
 * The chat log: one line per answered chat turn, the training data of the chat model (models/
 * prepare-chat). Gzipped JSONL batches under `logs/chat/dt=YYYY-MM-DD/hour=HH/` (CHAT_LOG_PREFIX), in
 * the layout of models/README.md, "Chat-log schema", written through the same buffered, never-blocking
 * queue as the event log. A turn names its caller by principal id only: no groups, no API key, no
 * header. Its context is the retrieval's, which the caller's permissions already filtered, so no
 * chunk the caller may not read is ever named. Feedback is not in it: it arrives later as `feedback`
 * events in the event log, joined by `queryId`.
 */

export interface ChatTurn {
  readonly type: "chat_turn";
  readonly version: 1;
  /** When the question arrived. */
  readonly ts: string;
  readonly queryId: string;
  /** The request id (the access log's `reqId`). */
  readonly traceId: string;
  readonly principalId: string;
  /** The turns before the question that the prompt carried (promptTurns), oldest first. */
  readonly conversation: readonly { readonly role: "user" | "assistant"; readonly content: string }[];
  readonly question: string;
  readonly retrievalQuery: string;
  /** The prompt's numbered sources, in prompt order: `n` is the `[n]` an answer cites. */
  readonly context: readonly { readonly n: number; readonly chunkId: string; readonly docId: string }[];
  /** The chunks the answer cites by an `[n]` that exists, in order of first citation. */
  readonly citedChunkIds: readonly string[];
  readonly answer: string;
  readonly answerMode: "llm" | "extractive";
  /** The chat model's id, or "extractive" when no model wrote the answer. */
  readonly model: string;
}

/**
 * The source numbers an answer cites, in order of first citation, without repeats: `[2]`, `[2][3]`
 * and `[1, 3]` forms; numbers outside 1..`sources` are not citations of this prompt.
 */
export function citedNumbers(answer: string, sources: number): number[] {
  const seen = new Set<number>();
  for (const marker of answer.matchAll(/\[(\d{1,4}(?:\s*,\s*\d{1,4})*)\]/g)) {
    for (const part of (marker[1] as string).split(",")) {
      const n = Number(part.trim());
      if (n >= 1 && n <= sources) seen.add(n);
    }
  }
  return [...seen];
}

export interface TurnInput {
  readonly ts: string;
  readonly queryId: string;
  readonly traceId: string;
  readonly principalId: string;
  /** The request's messages, as the prompt was built from them. */
  readonly messages: readonly ChatMessage[];
  readonly retrievalQuery: string;
  /** The retrieved chunks, in prompt order. */
  readonly hits: readonly { readonly id: string; readonly docId: string }[];
  readonly answer: string;
  /** The chat model's id; undefined: the answer is extractive. */
  readonly model: string | undefined;
}

/** The log line of one answered turn (pure). */
export function chatTurn(input: TurnInput): ChatTurn {
  const turns = promptTurns(input.messages);
  const context = input.hits.map((h, i) => ({ n: i + 1, chunkId: h.id, docId: h.docId }));
  return {
    type: "chat_turn",
    version: 1,
    ts: input.ts,
    queryId: input.queryId,
    traceId: input.traceId,
    principalId: input.principalId,
    conversation: turns.slice(0, -1).map((m) => ({ role: m.role as "user" | "assistant", content: m.content })),
    question: turns.at(-1)?.content ?? "",
    retrievalQuery: input.retrievalQuery,
    context,
    citedChunkIds: citedNumbers(input.answer, context.length).map((n) => context[n - 1]!.chunkId),
    answer: input.answer,
    answerMode: input.model === undefined ? "extractive" : "llm",
    model: input.model ?? "extractive",
  };
}

/** Batches of turns to the object store, keyed like the event log's (a retried put overwrites itself). */
export function chatLogSink(
  store: ObjectStore,
  options: { prefix: string; instance: string },
): Sink<ChatTurn, ChatTurn> {
  return {
    name: "chat-log",
    maxRows: 1000,
    maxBytes: 8_000_000,
    encode: (turn) => turn,
    send: (rows) =>
      store.put(
        batchKey(options.prefix, options.instance, rows[0]?.seq ?? 0, new Date()),
        encodeBatch(rows.map((r) => r.row)),
      ),
  };
}

/** What the chat route records to: `record` only appends to the queue's bounded buffer. */
export class ChatLog {
  private seq = 0;
  private readonly queue: BatchQueue<ChatTurn, ChatTurn>;

  constructor(sink: Sink<ChatTurn, ChatTurn>, options: QueueOptions) {
    this.queue = new BatchQueue(sink, options);
  }

  record(turn: ChatTurn): void {
    this.queue.push(turn, ++this.seq);
  }

  get buffered(): number {
    return this.queue.size;
  }

  close(graceMs: number): Promise<number> {
    return this.queue.close(graceMs);
  }
}
