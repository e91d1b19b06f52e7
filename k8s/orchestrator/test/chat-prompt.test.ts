import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { buildPrompt } from "../src/generation";

/**
 * The prompt is a contract with models/: `prepare-chat` renders training prompts from
 * models/backbone_models/chat_prompt.json, and models/tests/fixtures/chat-prompt.json holds rendered
 * cases that its Python test checks too. A change to buildPrompt's text fails here until both the
 * template and the fixture follow it (and the fine-tuned model is trained on the new text).
 */
const models = resolve(__dirname, "../../../models");
const read = (file: string) => JSON.parse(readFileSync(resolve(models, file), "utf8"));
const cases = read("tests/fixtures/chat-prompt.json").cases as {
  name: string;
  messages: Parameters<typeof buildPrompt>[0];
  hits: { title: string; content: string }[];
  expected: unknown;
}[];
const template = read("backbone_models/chat_prompt.json") as Record<string, string | number>;

/** chat_prompt.py's rendering, so the template file itself is checked against buildPrompt. */
const fill = (text: string, values: Record<string, string>) => text.replace(/\{(\w+)\}/g, (_, k) => values[k] ?? "");
function renderTemplate(messages: Parameters<typeof buildPrompt>[0], hits: { title: string; content: string }[]) {
  const sources = hits
    .map((h, i) => fill(String(template.source), { n: String(i + 1), title: h.title, content: h.content }))
    .join(String(template.sourceSeparator));
  const system = {
    role: "system",
    content: fill(String(template.system), { sources: sources || String(template.noSources) }),
  };
  return [system, ...messages.filter((m) => m.role !== "system").slice(-Number(template.maxTurns))];
}

describe("the chat prompt shared with models/ (prepare-chat)", () => {
  it.each(cases.map((c) => [c.name, c] as const))("buildPrompt renders the fixture: %s", (_, c) => {
    const hits = c.hits as unknown as Parameters<typeof buildPrompt>[1];
    expect(buildPrompt(c.messages, hits)).toEqual(c.expected);
    expect(renderTemplate(c.messages, c.hits)).toEqual(c.expected);
  });
});
