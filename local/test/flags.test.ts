import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { eachFlag } from "../src/flags.ts";

const walk = (argv: string[]) => {
  const seen: [string, string | undefined][] = [];
  eachFlag(argv, (flag, _arg, value) => seen.push([flag, flag.startsWith("--v") ? value() : undefined]));
  return seen;
};

describe("the shared flag walk", () => {
  it("reads `--flag value` and `--flag=value` alike, and a value may hold '='", () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1 }).filter((v) => !v.startsWith("--")),
        (v) => {
          expect(walk(["--value", v, "--x"])).toEqual(walk([`--value=${v}`, "--x"]));
          expect(walk([`--value=${v}`])).toEqual([["--value", v]]);
        },
      ),
    );
  });

  it("gives a flag without its value nothing, and leaves other arguments whole", () => {
    expect(walk(["--value"])).toEqual([["--value", undefined]]);
    expect(walk(["-h", "plain=word"])).toEqual([
      ["-h", undefined],
      ["plain=word", undefined],
    ]);
  });
});
