import { execFileSync } from "node:child_process";
import * as path from "node:path";
import type { CorpusDoc } from "./corpus";

/**
 * The Chinese corpus of the search suite: Debian's fortunes-zh, fetched and cached by the repository's
 * scripts/chinese-corpus.sh (packages/test-engines/{src,dist} -> repository root). Nobody here wrote
 * it: modern Chinese prose and sayings, Debian documentation, classical poems.
 */
export const CHINESE_CORPUS_SCRIPT = path.resolve(__dirname, "../../../scripts/chinese-corpus.sh");

/** Fetches the corpus if it is not cached yet, and returns its folder. */
export function chineseCorpusFolder(): string {
  return execFileSync("bash", [CHINESE_CORPUS_SCRIPT], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  }).trim();
}

// ANSI SGR sequences (ESC [ … m): the files colour their attributions for a terminal.
const COLOUR = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g");
const HAN = /\p{Script=Han}/gu;

const hanCount = (text: string) => text.match(HAN)?.length ?? 0;

/** A fortune file's entries: separated by lines holding only "%", with the terminal colour codes removed. */
export function parseFortunes(text: string): string[] {
  return text
    .replace(/\r\n/g, "\n")
    .split(/^%$/m)
    .map((entry) => entry.replace(COLOUR, "").trim())
    .filter((entry) => entry !== "");
}

/**
 * `count` documents spread evenly over the entries that hold at least `minHan` Han characters (the
 * shortest sayings carry too few words to rank), as `raw/zh/<n>.txt`. The same entries give the same
 * documents: the selection depends on nothing else.
 */
export function chineseDocuments(entries: readonly string[], count: number, minHan = 15): CorpusDoc[] {
  const eligible = entries.filter((entry) => hanCount(entry) >= minHan);
  if (eligible.length < count)
    throw new Error(`only ${eligible.length} entries hold ${minHan}+ Han characters; ${count} asked`);
  const step = eligible.length / count;
  return Array.from({ length: count }, (_, i) => ({
    key: `raw/zh/${String(i).padStart(4, "0")}.txt`,
    body: Buffer.from(eligible[Math.floor(i * step)]!),
  }));
}

/**
 * One query from each of `count` documents spread over the list: the document's first phrase (text
 * between punctuation or line breaks) with at least three Han characters, cut to `maxChars`. Phrases
 * from the documents themselves, so the queries are as public as the corpus.
 */
export function chineseQueries(docs: readonly CorpusDoc[], count: number, maxChars = 12): string[] {
  const queries: string[] = [];
  // Every step-th document first, then the ones between: spread over the corpus, each visited once.
  const step = Math.max(1, Math.floor(docs.length / count));
  const order = docs.map((_, i) => i).sort((a, b) => (a % step) - (b % step) || a - b);
  for (const i of order) {
    if (queries.length === count) break;
    const phrase = docs[i]!.body.toString("utf8")
      .split(/[\n，。！？；：、,.!?;:《》「」“”()（）—-]+/u)
      .map((part) => part.trim())
      .find((part) => hanCount(part) >= 3)
      ?.slice(0, maxChars);
    if (phrase && !queries.includes(phrase)) queries.push(phrase);
  }
  return queries;
}
