import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ArgsError, DEFAULT_PORT, parseArgs } from "../src/args.ts";

describe("npm start arguments", () => {
  it("defaults to the sample corpus on the default port", () => {
    expect(parseArgs([])).toEqual({ docs: undefined, port: DEFAULT_PORT, rerank: undefined, help: false });
  });

  it("takes --docs and --port, spaced or with =", () => {
    expect(parseArgs(["--docs", "my docs", "--port", "9000"])).toEqual({
      docs: "my docs",
      port: 9000,
      rerank: undefined,
      help: false,
    });
    expect(parseArgs(["--docs=a=b", "--port=1"])).toMatchObject({ docs: "a=b", port: 1 });
  });

  it("names the argument, the value and what was expected", () => {
    expect(() => parseArgs(["--docs"])).toThrow("--docs: expected a folder of documents, got nothing");
    expect(() => parseArgs(["--docs", "--port", "1"])).toThrow("--docs: expected a folder");
    expect(() => parseArgs(["--port", "http"])).toThrow('--port: expected a port number from 1 to 65535, got "http"');
    expect(() => parseArgs(["--port", "70000"])).toThrow('got "70000"');
    expect(() => parseArgs(["docs"])).toThrow(
      '"docs": unknown argument; expected --docs <folder>, --port <n>, --rerank or --no-rerank',
    );
    expect(() => parseArgs(["--rerank=yes"])).toThrow('--rerank: takes no value, got "yes"');
    expect(() => parseArgs(["--rerank", "--no-rerank"])).toThrow("--no-rerank: contradicts --rerank");
  });

  it("turns reranking on or off, or leaves it to local-models.json", () => {
    expect(parseArgs(["--rerank"]).rerank).toBe(true);
    expect(parseArgs(["--no-rerank", "--no-rerank"]).rerank).toBe(false);
    expect(parseArgs(["--port", "1"]).rerank).toBeUndefined();
  });

  it("accepts every valid port and refuses every other integer", () => {
    fc.assert(
      fc.property(fc.integer({ min: -100_000, max: 200_000 }), (n) => {
        const valid = n >= 1 && n <= 65535;
        if (valid) expect(parseArgs(["--port", String(n)]).port).toBe(n);
        else expect(() => parseArgs(["--port", String(n)])).toThrow(ArgsError);
      }),
    );
  });
});
