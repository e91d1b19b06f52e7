import { mkdtempSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { DEFAULT_PROFILE, type ModelEndpoints, type RelevanceProfile } from "@search-backbone/relevance";
import { describe, expect, it } from "vitest";
import { loadModelFiles } from "../src/config";
import { type ModelConfig, reloadModelConfig, watchModelFiles } from "../src/reload";

const dir = mkdtempSync(path.join(tmpdir(), "orch-reload-"));
const write = (name: string, value: unknown) => {
  const p = path.join(dir, name);
  writeFileSync(`${p}.tmp`, JSON.stringify(value));
  renameSync(`${p}.tmp`, p);
  return p;
};
const profile = (model: string): RelevanceProfile => ({
  ...DEFAULT_PROFILE,
  embedding: { model, dims: 8 },
  rerank: { model: "r" },
  candidateDepth: 20,
  rerankWindow: 10,
  topK: 5,
});
const endpoints = (model: string): ModelEndpoints => ({
  embedding: { url: `http://m/predictions/${model}`, model, protocol: "contract", dims: 8, authSecret: null },
  rerank: { url: "http://m/r", model: "r", protocol: "contract", dims: null, authSecret: null },
});
const v1: ModelConfig = { profile: profile("embed-v1"), endpoints: endpoints("embed-v1") };
const v2: ModelConfig = { profile: profile("embed-v2"), endpoints: endpoints("embed-v2") };

describe("reloading the model files", () => {
  it("applies a new consistent pair, and ignores an unchanged one", () => {
    expect(reloadModelConfig(v1, () => v2)).toEqual({ kind: "applied", config: v2 });
    expect(reloadModelConfig(v2, () => ({ ...v2 }))).toEqual({ kind: "unchanged" });
  });

  it("keeps the running pair when the files are caught half-way (profile new, endpoints old)", () => {
    const outcome = reloadModelConfig(v1, () => ({ profile: v2.profile, endpoints: v1.endpoints }));
    expect(outcome).toEqual({
      kind: "rejected",
      problems: [
        'PROFILE_FILE embedding.model: given "embed-v2"; expected the model the embedding endpoint serves (embed-v1)',
      ],
    });
  });

  it("keeps the running pair when a file does not parse, naming it", () => {
    const bad = write("broken.json", { embedding: { model: "x" } });
    const outcome = reloadModelConfig(v1, () => loadModelFiles(bad, write("e0.json", v1.endpoints)));
    expect(outcome.kind).toBe("rejected");
    expect(outcome.kind === "rejected" && outcome.problems[0]).toMatch(
      /^PROFILE_FILE \(.*broken.json\) embedding.dims:/,
    );
  });

  it("watches both files and applies the pair once both are written", async () => {
    const files = { profileFile: write("p.json", v1.profile), endpointsFile: write("e.json", v1.endpoints) };
    const applied: ModelConfig[] = [];
    const warnings: unknown[] = [];
    const watch = watchModelFiles({
      ...files,
      current: loadModelFiles(files.profileFile, files.endpointsFile),
      apply: (config) => applied.push(config),
      log: { info: () => {}, warn: (obj) => warnings.push(obj) },
      intervalMs: 20,
    });
    try {
      // Polling compares each stat with the watcher's first one, taken asynchronously: a write that lands
      // before it is never seen as a change. So each write repeats until the watcher has reacted to it.
      await expect.poll(() => write("p.json", v2.profile) && warnings.length, { timeout: 10_000 }).toBeGreaterThan(0);
      expect(applied).toEqual([]);
      await expect.poll(() => write("e.json", v2.endpoints) && applied.length, { timeout: 10_000 }).toBe(1);
      expect(applied[0]?.endpoints.embedding.model).toBe("embed-v2");
      expect(applied[0]?.profile.embedding.model).toBe("embed-v2");
    } finally {
      watch.close();
    }
  });
});
