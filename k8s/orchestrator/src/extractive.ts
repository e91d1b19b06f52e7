import { contentWords } from "./generation";

/**
 * The answer without a language model (no DASHSCOPE_API_KEY): sentences quoted from the cited
 * passages, each followed by its citation marker, labelled `answerMode: "extractive"` in the API.
 * Nothing is written that a passage does not say. Pure: tested directly.
 */

export interface ExtractiveOptions {
  /** How many of the top citations sentences are taken from (in rank order). */
  readonly citations: number;
  /** How many sentences the answer holds at most. */
  readonly sentences: number;
  /** A longer sentence is cut at a word boundary, with an ellipsis. */
  readonly maxSentenceChars: number;
}

export const EXTRACTIVE_DEFAULTS: ExtractiveOptions = { citations: 3, sentences: 3, maxSentenceChars: 320 };

export const NO_SOURCES = "No passage in the index matches this question.";

/** A passage's sentences: markup lines and whitespace runs collapsed, split after . ! ? or at blank lines. */
export function sentencesOf(passage: string): string[] {
  return passage
    .split(/\n\s*\n/)
    .flatMap((block) =>
      block
        .replace(/\s+/g, " ")
        .trim()
        .split(/(?<=[.!?])\s+(?=[\p{Lu}\p{N}"'(`*])/u),
    )
    .map((s) => s.trim())
    .filter((s) => /[\p{L}\p{N}]/u.test(s) && !/^[-=~^*#`:.+_]{3,}$/.test(s));
}

function clip(sentence: string, max: number): string {
  if (sentence.length <= max) return sentence;
  const cut = sentence.slice(0, max);
  const space = cut.lastIndexOf(" ");
  return `${(space > max / 2 ? cut.slice(0, space) : cut).replace(/[\s,;:]+$/, "")}…`;
}

interface Candidate {
  readonly n: number;
  readonly order: number;
  readonly text: string;
  readonly matched: number;
}

/**
 * For each of the top `citations` passages, its sentence that holds the most distinct content words
 * of the query (ties: the earlier sentence); then the best `sentences` of those, shown in citation
 * order, each followed by ` [n]`. When no sentence shares a word with the query, the opening sentence
 * of the top passage stands in (retrieval ranked it first), still cited.
 */
export function extractiveAnswer(
  query: string,
  passages: readonly { readonly n: number; readonly text: string }[],
  options: ExtractiveOptions = EXTRACTIVE_DEFAULTS,
): string {
  const wanted = new Set(contentWords(query));
  const best: Candidate[] = [];
  for (const passage of passages.slice(0, options.citations)) {
    let top: Candidate | undefined;
    sentencesOf(passage.text).forEach((text, order) => {
      const matched = new Set(contentWords(text).filter((w) => wanted.has(w))).size;
      if (!top || matched > top.matched) top = { n: passage.n, order, text, matched };
    });
    if (top) best.push(top);
  }
  const matching = best.filter((c) => c.matched > 0);
  const chosen = matching.length
    ? [...matching]
        .sort((a, b) => b.matched - a.matched || a.n - b.n)
        .slice(0, options.sentences)
        .sort((a, b) => a.n - b.n)
    : best.slice(0, 1); // with no word matched, the top passage's best is its first sentence
  if (!chosen.length) return NO_SOURCES;
  return chosen.map((c) => `${clip(c.text, options.maxSentenceChars)} [${c.n}]`).join(" ");
}

/** The answer as the stream's tokens: each word with the whitespace after it, so they join back exactly. */
export function tokensOf(answer: string): string[] {
  return answer.match(/\s*\S+\s*/g) ?? [];
}
