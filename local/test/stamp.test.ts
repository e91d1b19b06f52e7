import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { buildNeeded, setupReason, setupStamp } from "../src/stamp.ts";

const current = setupStamp("lock", "reqs");

describe("set-up staleness", () => {
  it("is current when the stamp matches and both installs exist", () => {
    expect(setupReason({ recorded: current, wanted: current, nodeModules: true, venv: true })).toBeUndefined();
  });

  it("says which input changed", () => {
    const state = { recorded: current, nodeModules: true, venv: true };
    expect(setupReason({ ...state, wanted: setupStamp("lock2", "reqs") })).toBe(
      "package-lock.json changed since the last set-up",
    );
    expect(setupReason({ ...state, wanted: setupStamp("lock", "reqs2") })).toBe(
      "models/requirements.txt changed since the last set-up",
    );
    expect(setupReason({ ...state, wanted: setupStamp("x", "y") })).toBe(
      "package-lock.json and models/requirements.txt changed since the last set-up",
    );
  });

  it("runs when an install or the stamp is missing", () => {
    expect(setupReason({ recorded: current, wanted: current, nodeModules: false, venv: true })).toMatch(/node_modules/);
    expect(setupReason({ recorded: current, wanted: current, nodeModules: true, venv: false })).toMatch(/\.venv/);
    expect(setupReason({ recorded: undefined, wanted: current, nodeModules: true, venv: true })).toMatch(/no set-up/);
  });

  it("the stamp changes with either input and only with them", () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.string(), fc.string(), (a, b, c, d) => {
        expect(setupStamp(a, b) === setupStamp(c, d)).toBe(a === c && b === d);
      }),
    );
  });

  it("builds when nothing is built or a source is newer", () => {
    expect(buildNeeded(10, undefined)).toBe(true);
    expect(buildNeeded(10, 9)).toBe(true);
    expect(buildNeeded(10, 10)).toBe(false);
    expect(buildNeeded(10, 11)).toBe(false);
  });
});
