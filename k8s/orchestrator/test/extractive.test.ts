import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { EXTRACTIVE_DEFAULTS, extractiveAnswer, NO_MATCH, NO_SOURCES, sentencesOf, tokensOf } from "../src/extractive";

/** The extractive answer (no chat model): pure, so tested directly. */

const passages = [
  {
    n: 1,
    text: "The os module.\n\nIt provides a portable way of using operating system dependent functionality. See also shutil.",
  },
  { n: 2, text: "Use os.environ to read environment variables. Changes affect subprocesses started afterwards." },
  { n: 3, text: "Logging is configured with basicConfig." },
  { n: 4, text: "Environment variables in the os module are strings." },
];

describe("extractive answer", () => {
  it("quotes, in citation order, each top passage's sentence that matches the question best, with its marker", () => {
    expect(extractiveAnswer("how do I read environment variables with os?", passages)).toBe(
      "The os module. [1] Use os.environ to read environment variables. [2]",
    );
  });

  it("looks only at the top citations and keeps at most the configured number of sentences", () => {
    const answer = extractiveAnswer("environment variables os strings", passages, {
      ...EXTRACTIVE_DEFAULTS,
      citations: 4,
      sentences: 2,
    });
    expect(answer).toBe(
      "Use os.environ to read environment variables. [2] Environment variables in the os module are strings. [4]",
    );
  });

  it("says so, quoting nothing, when no sentence matches or nothing was found", () => {
    expect(extractiveAnswer("zebra", passages)).toBe(NO_MATCH);
    expect(extractiveAnswer("anything", [])).toBe(NO_SOURCES);
  });

  it("passes over a chunk's leading fragment (a sentence cut by chunking) and prefers the longer of equal matches", () => {
    expect(extractiveAnswer("line parser", [{ n: 1, text: "called once per line. The parser reads files." }])).toBe(
      "The parser reads files. [1]",
    );
    expect(extractiveAnswer("csv", [{ n: 1, text: "The csv module. It reads and writes csv files of rows." }])).toBe(
      "It reads and writes csv files of rows. [1]",
    );
  });

  it("cuts a long sentence at a word with an ellipsis", () => {
    const long = `Environment ${"word ".repeat(200)}end.`;
    const answer = extractiveAnswer("environment", [{ n: 1, text: long }]);
    expect(answer.endsWith("… [1]")).toBe(true);
    expect(answer.length).toBeLessThanOrEqual(EXTRACTIVE_DEFAULTS.maxSentenceChars + 5);
  });

  it("splits sentences and drops reStructuredText underlines", () => {
    expect(sentencesOf("Title\n=====\n\nFirst one. Second? Third!\n\n----\n\ne.g. lower case stays")).toEqual([
      "Title",
      "First one.",
      "Second?",
      "Third!",
      "e.g. lower case stays",
    ]);
    expect(sentencesOf(":mod:`csv` --- CSV files .. module:: csv :synopsis: Read and write.")).toEqual([
      ":mod:`csv`",
      "CSV files",
      "module:: csv :synopsis: Read and write.",
    ]);
    expect(sentencesOf("Title ---- .. module:: csv")).toEqual(["Title", "module:: csv"]);
  });

  it("writes nothing that no passage says: every quoted sentence is in its cited passage", () => {
    const text = fc.array(fc.constantFrom("alpha", "beta", "gamma", "delta", "Eps.", "Zeta!", "\n\n", "x?"), {
      maxLength: 40,
    });
    fc.assert(
      fc.property(
        fc.array(text, { minLength: 1, maxLength: 5 }),
        fc.array(fc.constantFrom("alpha", "zeta", "x")),
        (texts, words) => {
          const given = texts.map((t, i) => ({ n: i + 1, text: t.join(" ") }));
          const answer = extractiveAnswer(words.join(" "), given);
          if (answer === NO_SOURCES || answer === NO_MATCH) return;
          for (const [, sentence, n] of answer.matchAll(/(.+?) \[(\d+)\](?: |$)/g)) {
            const source = given[Number(n) - 1]!.text.replace(/\s+/g, " ");
            expect(source).toContain(sentence!.replace(/…$/, ""));
          }
        },
      ),
    );
  });

  it("streams tokens that join back to exactly the answer", () => {
    // An answer always has a word; a blank one would stream nothing.
    const answers = fc.string({ unit: fc.constantFrom("a", "b", " ", "\n", "[1]", ".") }).filter((a) => /\S/.test(a));
    fc.assert(fc.property(answers, (answer) => tokensOf(answer).join("") === answer));
    expect(tokensOf("One two [1]")).toEqual(["One ", "two ", "[1]"]);
  });
});
