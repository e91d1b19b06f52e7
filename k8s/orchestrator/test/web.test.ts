import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  Api,
  answerParts,
  DROPPED,
  degradedNotes,
  KEY_STORAGE,
  parseSse,
  problemError,
  retryAfterSeconds,
  takeKeyFromFragment,
  userIdOf,
} from "../web/api.js";

/** The page's pure helpers (web/api.js), without a browser; test/page.test.ts drives the page itself. */

const memoryStorage = () => {
  const items = new Map<string, string>();
  return {
    getItem: (k: string) => items.get(k) ?? null,
    setItem: (k: string, v: string) => void items.set(k, v),
    removeItem: (k: string) => void items.delete(k),
  };
};

describe("the page's helpers", () => {
  it("takes the key from #key=, removes it from the address and keeps it for the tab", () => {
    const storage = memoryStorage();
    const replaced: string[] = [];
    const history = { replaceState: (_s: unknown, _t: string, url: string) => replaced.push(url) };
    const key = takeKeyFromFragment({ hash: "#key=abc%2B1&x=2", pathname: "/", search: "?q=1" }, history, storage);
    expect(key).toBe("abc+1");
    expect(storage.getItem(KEY_STORAGE)).toBe("abc+1");
    expect(replaced).toEqual(["/?q=1#x=2"]);
    expect(takeKeyFromFragment({ hash: "", pathname: "/", search: "" }, history, storage)).toBe("abc+1");
    expect(replaced).toHaveLength(1);
  });

  it("keeps one anonymous user id per browser", () => {
    const storage = memoryStorage();
    const id = userIdOf(storage, (bytes: Uint8Array) => bytes.fill(171));
    expect(id).toBe(`web-${"ab".repeat(12)}`);
    expect(userIdOf(storage, () => new Uint8Array(12))).toBe(id);
  });

  it("parses server-sent events however the stream is cut into chunks", () => {
    const events = [
      { event: "citations", data: { queryId: "q", citations: [{ n: 1 }] } },
      { event: "token", data: { text: "Hello [1]\n" } },
      { event: "done", data: { finishReason: "stop" } },
    ];
    const stream = events.map((e) => `event: ${e.event}\ndata: ${JSON.stringify(e.data)}\n\n`).join("");
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: stream.length - 1 })), (cuts) => {
        let buffer = "";
        const seen: unknown[] = [];
        let last = 0;
        for (const at of [...cuts.sort((a, b) => a - b), stream.length]) {
          const parsed = parseSse(buffer + stream.slice(last, at));
          last = at;
          buffer = parsed.rest;
          seen.push(...parsed.events);
        }
        expect(seen).toEqual(events);
        expect(buffer).toBe("");
      }),
    );
  });

  it("splits an answer into text and citation markers", () => {
    expect(answerParts("A [1][2] b [10]")).toEqual([
      { text: "A " },
      { cite: 1 },
      { cite: 2 },
      { text: " b " },
      { cite: 10 },
    ]);
  });

  it("words each failure for people", () => {
    expect(problemError(401, { detail: "x" }).message).toBe(
      "The API key was not accepted: it is wrong or has expired. Enter a valid key.",
    );
    expect(problemError(429, {}, 17)).toMatchObject({
      kind: "rate",
      retryAfter: 17,
      message: "Too many requests for this API key. Try again in 17 s.",
    });
    expect(problemError(503, { detail: "no search engine answered" }, 1).message).toBe(
      "The service is busy or a search engine is down: no search engine answered. Try again in 1 s.",
    );
    expect(problemError(400, { errors: [{ field: "body.query", message: "required" }] }).message).toBe(
      "The request was refused: body.query: required.",
    );
    expect(problemError(500, undefined).message).toBe("The service answered 500 (Error).");
    expect(retryAfterSeconds("12")).toBe(12);
    expect(retryAfterSeconds(new Date(10_000).toUTCString(), 0)).toBe(10);
    expect(retryAfterSeconds(null)).toBeUndefined();
    expect(degradedNotes([{ dependency: "elasticsearch", message: "timeout" }])).toEqual([
      "Elasticsearch did not answer, so these results come from the other engine only (timeout).",
    ]);
  });

  it("reports a chat stream that ends before `done` as dropped, and sends the key only in its header", async () => {
    const calls: { url: string; init: RequestInit }[] = [];
    const api = new Api("secret-key", async (url: string, init: RequestInit) => {
      calls.push({ url, init });
      return new Response('event: citations\ndata: {"citations":[]}\n\nevent: token\ndata: {"text":"Hal', {
        status: 200,
        headers: { "content-type": "text/event-stream" },
      });
    });
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const event of api.chat({ messages: [{ role: "user", content: "q" }] })) seen.push(event.event);
      })(),
    ).rejects.toMatchObject({ kind: "dropped", message: DROPPED });
    expect(seen).toEqual(["citations"]);
    expect(calls[0]!.url).toBe("v1/chat");
    expect((calls[0]!.init.headers as Record<string, string>).authorization).toBe("Bearer secret-key");
    expect(String(calls[0]!.init.body)).not.toContain("secret-key");
  });
});
