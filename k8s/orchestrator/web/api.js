/**
 * The page's talk with the orchestrator's API, and the pure helpers the page renders with (tested
 * directly in test/web.test.ts). The API key is sent only in the Authorization header, never logged.
 */

export const KEY_STORAGE = "search-backbone.apiKey";
export const USER_STORAGE = "search-backbone.userId";

/**
 * The key the local stack hands over in the address (`#key=<key>`): read once, removed from the
 * address bar (so it is neither bookmarked nor shown), kept for this tab in sessionStorage.
 */
export function takeKeyFromFragment(location, history, storage) {
  const params = new URLSearchParams(location.hash.replace(/^#/, ""));
  const key = params.get("key");
  if (key) {
    storage.setItem(KEY_STORAGE, key);
    params.delete("key");
    const rest = params.toString();
    history.replaceState(null, "", `${location.pathname}${location.search}${rest ? `#${rest}` : ""}`);
  }
  return storage.getItem(KEY_STORAGE) ?? "";
}

/** An anonymous id for this browser, so the events of one person stay together. */
export function userIdOf(storage, random = (bytes) => crypto.getRandomValues(bytes)) {
  let id = storage.getItem(USER_STORAGE);
  if (!id) {
    const hex = [...random(new Uint8Array(12))].map((b) => b.toString(16).padStart(2, "0")).join("");
    id = `web-${hex}`;
    storage.setItem(USER_STORAGE, id);
  }
  return id;
}

/** Complete server-sent events in `buffer` (blocks ending in a blank line) and the incomplete rest. */
export function parseSse(buffer) {
  const blocks = buffer.split("\n\n");
  const rest = blocks.pop() ?? "";
  const events = [];
  for (const block of blocks) {
    if (!block.trim()) continue;
    let event = "message";
    const data = [];
    for (const line of block.split("\n")) {
      if (line.startsWith("event:")) event = line.slice(6).trim();
      else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
    }
    events.push({ event, data: data.length ? JSON.parse(data.join("\n")) : null });
  }
  return { events, rest };
}

/** An answer split into text and citation markers ([n]), so each marker can open its citation. */
export function answerParts(text) {
  const parts = [];
  let last = 0;
  for (const match of text.matchAll(/\[(\d+)\]/g)) {
    if (match.index > last) parts.push({ text: text.slice(last, match.index) });
    parts.push({ cite: Number(match[1]) });
    last = match.index + match[0].length;
  }
  if (last < text.length) parts.push({ text: text.slice(last) });
  return parts;
}

const ENGINE_NAMES = { elasticsearch: "Elasticsearch", opensearch: "OpenSearch" };
export const engineName = (engine) => ENGINE_NAMES[engine] ?? engine;

/** What a degraded answer lacks, in words, one line per warning. */
export function degradedNotes(warnings) {
  return warnings.map(({ dependency, message }) => {
    if (dependency === "elasticsearch" || dependency === "opensearch")
      return `${engineName(dependency)} did not answer, so these results come from the other engine only (${message}).`;
    if (dependency === "rerank") return `Reranking was skipped, so results are in fused order (${message}).`;
    if (dependency === "embedding")
      return `The question could not be embedded, so only keyword search was used (${message}).`;
    if (dependency === "airec")
      return `Personalised recommendations (AIRec) are unavailable; the backbone's are shown (${message}).`;
    return `${dependency}: ${message}`;
  });
}

/** Seconds from a Retry-After header (delay-seconds or an HTTP date); undefined when absent or unusable. */
export function retryAfterSeconds(header, now = Date.now()) {
  if (!header) return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim());
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000));
}

/** A failed call, described for people: what happened and what to do; never a stack. */
export class ApiError extends Error {
  constructor(kind, message, extra = {}) {
    super(message);
    this.name = "ApiError";
    this.kind = kind;
    Object.assign(this, extra);
  }
}

/** The ApiError for a non-2xx answer with its problem+json body (or none). */
export function problemError(status, problem, retryAfter) {
  const detail = typeof problem?.detail === "string" ? problem.detail : "";
  if (status === 401)
    return new ApiError("auth", "The API key was not accepted: it is wrong or has expired. Enter a valid key.", {
      status,
    });
  if (status === 429)
    return new ApiError("rate", `Too many requests for this API key. Try again in ${retryAfter ?? 60} s.`, {
      status,
      retryAfter: retryAfter ?? 60,
    });
  if (status === 503)
    return new ApiError(
      "unavailable",
      `The service is busy or a search engine is down${detail ? `: ${detail}` : ""}.${retryAfter !== undefined ? ` Try again in ${retryAfter} s.` : " Try again shortly."}`,
      { status, retryAfter },
    );
  if (status === 400 && Array.isArray(problem?.errors))
    return new ApiError(
      "invalid",
      `The request was refused: ${problem.errors.map((e) => `${e.field}: ${e.message}`).join("; ")}.`,
      { status },
    );
  if (status === 502)
    return new ApiError("generation", `The answer could not be generated${detail ? `: ${detail}` : ""}.`, { status });
  const title = typeof problem?.title === "string" ? problem.title : "Error";
  return new ApiError("http", `The service answered ${status} (${title})${detail ? `: ${detail}` : ""}.`, { status });
}

export const OFFLINE = "The service cannot be reached. Check the connection and that the backbone is running.";
export const DROPPED =
  "The connection dropped before the answer was complete; what arrived is shown. Ask again to retry.";

/** The API client: JSON calls and the chat's event stream, with the key in the Authorization header. */
export class Api {
  constructor(key, fetchImpl = (...args) => fetch(...args)) {
    this.key = key;
    this.fetch = fetchImpl;
  }

  async send(method, path, body, signal) {
    const headers = { authorization: `Bearer ${this.key}`, accept: "application/json, text/event-stream" };
    if (body !== undefined) headers["content-type"] = "application/json";
    let response;
    try {
      response = await this.fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
      });
    } catch (error) {
      if (error?.name === "AbortError") throw error;
      throw new ApiError("offline", OFFLINE);
    }
    if (!response.ok) {
      const problem = await response.json().catch(() => undefined);
      throw problemError(response.status, problem, retryAfterSeconds(response.headers.get("retry-after")));
    }
    return response;
  }

  async json(method, path, body) {
    return (await this.send(method, path, body)).json();
  }

  /** The chat's events as they arrive; throws ApiError("dropped") when the stream ends before `done`. */
  async *chat(body, signal) {
    const response = await this.send("POST", "v1/chat", { ...body, stream: true }, signal);
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    let done = false;
    try {
      while (!done) {
        const chunk = await reader.read();
        if (chunk.done) break;
        buffer += decoder.decode(chunk.value, { stream: true });
        const parsed = parseSse(buffer);
        buffer = parsed.rest;
        for (const event of parsed.events) {
          yield event;
          if (event.event === "done") done = true;
        }
      }
    } catch (error) {
      if (error?.name === "AbortError") throw error;
      throw new ApiError("dropped", DROPPED);
    }
    if (!done) throw new ApiError("dropped", DROPPED);
  }

  events(events) {
    return this.json("POST", "v1/events", { events });
  }
}
