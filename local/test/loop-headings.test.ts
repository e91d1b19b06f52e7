import { describe, expect, it } from "vitest";
import { cleanHeading, headingQueries, headingsOf } from "../src/loop/headings.ts";

const ABC = `:mod:\`abc\` --- Abstract Base Classes
====================================

.. module:: abc

--------------

This module provides the infrastructure.

Examples
--------

Using \`\`ABCMeta\`\` directly
~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
`;

describe("headings", () => {
  it("cleans reStructuredText roles, literals and the em-dash separator", () => {
    expect(cleanHeading(":mod:`abc` --- Abstract Base Classes")).toBe("abc Abstract Base Classes");
    expect(cleanHeading(":ref:`the tutorial <tut-intro>` and ``code``")).toBe("the tutorial and code");
    expect(cleanHeading("## Markdown **bold** title")).toBe("Markdown bold title");
  });

  it("finds underlined titles, not transitions or one-word titles", () => {
    expect(headingsOf(ABC)).toEqual(["abc Abstract Base Classes", "Using ABCMeta directly"]);
  });

  it("keeps headings that name one document, round-robin over the documents", () => {
    const docs = new Map([
      ["b.rst.txt", "Shared Heading Here\n===================\n\nOnly In B\n=========\n"],
      ["a.rst.txt", "Shared Heading Here\n===================\n\nFirst Of A\n==========\n\nSecond Of A\n===========\n"],
    ]);
    expect(headingQueries(docs)).toEqual([
      { query: "First Of A", docId: "a.rst.txt" },
      { query: "Only In B", docId: "b.rst.txt" },
      { query: "Second Of A", docId: "a.rst.txt" },
    ]);
  });
});
