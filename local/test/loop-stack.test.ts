import { describe, expect, it } from "vitest";
import { LoopArgsError, parseLoopArgs } from "../src/loop/args.ts";
import { parseStack } from "../src/loop/stack.ts";

const STACK = {
  orchestrator: { url: "http://127.0.0.1:8480", apiKeyFile: "/w/.local/api-key" },
  engines: { opensearch: "http://127.0.0.1:9290", elasticsearch: "http://127.0.0.1:9300" },
  torchserve: {
    inference: "http://127.0.0.1:8090",
    management: "http://127.0.0.1:8091",
    modelStore: "/w/.local/models",
  },
  models: { embed: { name: "embed", version: "1", dims: 384 }, rerank: { name: "rerank", version: "1" } },
  backbone: {
    alias: "chunks",
    profileFile: "/w/.local/profile.json",
    endpointsFile: "/w/.local/endpoints.json",
    docs: "/d",
  },
  eventLog: "/w/.local/events",
  work: "/w/.local",
};

describe("stack.json", () => {
  it("reads the contract's shape", () => {
    expect(parseStack(JSON.stringify(STACK), "s.json")).toEqual(STACK);
  });

  it("names the field, the value and what was expected", () => {
    const bad = { ...STACK, models: { ...STACK.models, embed: { name: "embed", version: 1, dims: 384 } } };
    expect(() => parseStack(JSON.stringify(bad), "s.json")).toThrow(
      's.json: models.embed.version is 1; expected a version number as a string, e.g. "1"',
    );
    const relative = { ...STACK, work: ".local" };
    expect(() => parseStack(JSON.stringify(relative), "s.json")).toThrow(
      's.json: work is ".local"; expected an absolute path',
    );
    const { torchserve: _, ...missing } = STACK;
    expect(() => parseStack(JSON.stringify(missing), "s.json")).toThrow(
      "s.json: torchserve is nothing; expected an object",
    );
    expect(() => parseStack("{", "s.json")).toThrow("s.json: not JSON");
  });
});

describe("npm run loop arguments", () => {
  it("has defaults and reads each option", () => {
    expect(parseLoopArgs([])).toMatchObject({ stack: undefined, traffic: 400, evalPercent: 20, help: false });
    expect(parseLoopArgs(["--stack", "s.json", "--traffic=0", "--embed-steps", "5"])).toMatchObject({
      stack: "s.json",
      traffic: 0,
      embedSteps: 5,
    });
  });

  it("names the option and the value it refuses", () => {
    expect(() => parseLoopArgs(["--eval-percent", "100"])).toThrow(
      new LoopArgsError('--eval-percent: expected an integer from 1 to 99, got "100"'),
    );
    expect(() => parseLoopArgs(["--traffic"])).toThrow("--traffic: expected an integer from 0 to 100000, got nothing");
    expect(() => parseLoopArgs(["--fast"])).toThrow('"--fast": unknown argument');
  });
});
