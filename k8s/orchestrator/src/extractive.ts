import { contentWords } from "./generation";

/**
 * The answer without a language model (no DASHSCOPE_API_KEY): sentences quoted from the cited
 * passages, each followed by its citation marker, labelled `answerMode: "extractive"` in the API.
 * Nothing is written that a passage does not say (but for the fixed lines when nothing matches).
 * Pure: tested directly.
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
export const NO_MATCH =
  "No sentence of the cited passages shares a word with the question; the citations are the closest passages found.";

/**
 * A passage's sentences, as substrings of it with whitespace runs collapsed: split after . ! ? before
 * a capital, digit or quote, at blank lines, and at markup that is no sentence (reStructuredText
 * underlines and directives: runs of 3+ of = - ~ ^ * # + _, and " .. ").
 */
export function sentencesOf(passage: string): string[] {
  return passage
    .split(/\n\s*\n/)
    .flatMap((block) =>
      block.replace(/\s+/g, " ").split(/(?<=[.!?])\s+(?=[\p{Lu}\p{N}"'(`*])|\s*[=\-~^*#+_]{3,}\s*|(?:^|\s)\.\.\s/u),
    )
    .map((s) => s.trim().replace(/^\.\.\s+/, ""))
    .filter((s) => /[\p{L}\p{N}]/u.test(s));
}

function clip(sentence: string, max: number): string {
  if (sentence.length <= max) return sentence;
  const cut = sentence.slice(0, max);
  const space = cut.lastIndexOf(" ");
  return `${(space > max / 2 ? cut.slice(0, space) : cut).replace(/[\s,;:]+$/, "")}…`;
}

interface Candidate {
  readonly n: number;
  readonly text: string;
  readonly matched: number;
  readonly words: number;
}

/**
 * For each of the top `citations` passages, its sentence that holds the most distinct content words
 * of the query (ties: the longer, then the earlier); then the best `sentences` of those, shown in
 * citation order, each followed by ` [n]`. A chunk's first sentence that starts in lower case is the
 * tail of a sentence cut by chunking and is passed over. When no sentence shares a word with the
 * query, the answer says so instead of quoting an unrelated sentence.
 */
export function extractiveAnswer(
  query: string,
  passages: readonly { readonly n: number; readonly text: string }[],
  options: ExtractiveOptions = EXTRACTIVE_DEFAULTS,
): string {
  if (!passages.length) return NO_SOURCES;
  const wanted = new Set(contentWords(query));
  const best: Candidate[] = [];
  for (const passage of passages.slice(0, options.citations)) {
    const sentences = sentencesOf(passage.text);
    const whole = sentences.length > 1 && /^\p{Ll}/u.test(sentences[0] ?? "") ? sentences.slice(1) : sentences;
    let top: Candidate | undefined;
    for (const text of whole) {
      const words = contentWords(text);
      const matched = new Set(words.filter((w) => wanted.has(w))).size;
      if (!top || matched > top.matched || (matched === top.matched && words.length > top.words))
        top = { n: passage.n, text, matched, words: words.length };
    }
    if (top && top.matched > 0) best.push(top);
  }
  if (!best.length) return NO_MATCH;
  return [...best]
    .sort((a, b) => b.matched - a.matched || a.n - b.n)
    .slice(0, options.sentences)
    .sort((a, b) => a.n - b.n)
    .map((c) => `${clip(c.text, options.maxSentenceChars)} [${c.n}]`)
    .join(" ");
}

/** The answer as the stream's tokens: each word with the whitespace after it, so they join back exactly. */
export function tokensOf(answer: string): string[] {
  return answer.match(/\s*\S+\s*/g) ?? [];
}
