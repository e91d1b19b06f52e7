import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import {
  LOCAL_MODELS_STAMP,
  nextPromotion,
  PROMOTION_FILE,
  parsePromotion,
  promotionBasis,
  readPromotion,
  servedModels,
  writePromotion,
} from "../src/promotion.ts";
import { LOCAL_MODELS } from "./fixtures.ts";

const BUILT = LOCAL_MODELS;
const BASIS = "a".repeat(64);
const always = () => true;

describe("which versions npm start serves", () => {
  it("version 1 when nothing was promoted", () => {
    expect(servedModels(BUILT, undefined, BASIS, always)).toEqual({ models: BUILT, notes: [] });
  });

  it("the promoted versions, when their basis is this build of version 1 and their archives are there", () => {
    const record = { basis: BASIS, embed: { name: "embed", version: "3", mar: "embed-v3.mar" } };
    const served = servedModels(BUILT, record, BASIS, always);
    expect(served.models).toEqual({ ...BUILT, embed: { name: "embed", version: "3", dims: 384, mar: "embed-v3.mar" } });
    expect(served.notes).toEqual(["serving embed v3 (embed-v3.mar), promoted by npm run loop"]);
  });

  it("version 1 again, and says why, when local-models rebuilt it or an archive is gone", () => {
    const record = {
      basis: BASIS,
      embed: { name: "embed", version: "2", mar: "embed-v2.mar" },
      rerank: { name: "rerank", version: "2", mar: "rerank-v2.mar" },
    };
    const rebuilt = servedModels(BUILT, record, "b".repeat(64), always);
    expect(rebuilt.models).toEqual(BUILT);
    expect(rebuilt.notes[0]).toMatch(/not serving the promoted embed v2, rerank v2: local-models rebuilt version 1/);
    const missing = servedModels(BUILT, record, BASIS, (mar) => mar !== "rerank-v2.mar");
    expect(missing.models).toEqual({ ...BUILT, embed: { ...BUILT.embed, version: "2", mar: "embed-v2.mar" } });
    expect(missing.notes).toContain("not serving the promoted rerank v2: its archive rerank-v2.mar is missing");
  });

  it("serves only versions whose archive exists, and version 1 otherwise, for any record", () => {
    const version = fc.integer({ min: 2, max: 99 }).map(String);
    const promoted = (name: string) =>
      fc.option(
        version.map((v) => ({ name, version: v, mar: `${name}-v${v}.mar` })),
        { nil: undefined },
      );
    fc.assert(
      fc.property(promoted("embed"), promoted("rerank"), fc.boolean(), fc.boolean(), (embed, rerank, same, present) => {
        const record = { basis: BASIS, embed, rerank };
        const { models } = servedModels(BUILT, record, same ? BASIS : undefined, () => present);
        for (const role of ["embed", "rerank"] as const) {
          const p = record[role];
          const expected = same && present && p ? { version: p.version, mar: p.mar } : BUILT[role];
          expect(models[role]).toMatchObject({ version: expected.version, mar: expected.mar });
          expect(models[role].name).toBe(BUILT[role].name);
        }
        expect(models.embed.dims).toBe(384);
      }),
    );
  });
});

describe("the promotion record", () => {
  it("keeps an earlier promotion of the same basis and drops one of another", () => {
    const earlier = { basis: BASIS, embed: { name: "embed", version: "2", mar: "embed-v2.mar" } };
    const rerank = { name: "rerank", version: "2", mar: "rerank-v2.mar" };
    expect(nextPromotion(earlier, BASIS, { rerank })).toEqual({ ...earlier, rerank });
    expect(nextPromotion(earlier, "c".repeat(64), { rerank })).toEqual({ basis: "c".repeat(64), rerank });
  });

  it("names the field, the value and what was expected", () => {
    expect(() => parsePromotion("{", "p.json")).toThrow("p.json: not JSON");
    expect(() => parsePromotion(JSON.stringify({ basis: "x" }), "p.json")).toThrow(
      'p.json: basis is "x"; expected a SHA-256 in hex (delete the file to serve version 1)',
    );
    const bad = { basis: BASIS, embed: { name: "embed", version: 2, mar: "embed-v2.mar" } };
    expect(() => parsePromotion(JSON.stringify(bad), "p.json")).toThrow(
      'p.json: embed.version is 2; expected a version number as a string, e.g. "2"',
    );
    const outside = { basis: BASIS, rerank: { name: "rerank", version: "2", mar: "../rerank.mar" } };
    expect(() => parsePromotion(JSON.stringify(outside), "p.json")).toThrow(
      'p.json: rerank.mar is "../rerank.mar"; expected an archive file name in the model store',
    );
  });

  describe("in a model store", () => {
    let store: string | undefined;
    afterEach(() => {
      if (store) rmSync(store, { recursive: true, force: true });
    });

    it("is written by a promotion and read back by the next start; a new local-models build voids it", () => {
      store = mkdtempSync(path.join(tmpdir(), "promotion-"));
      expect(() => writePromotion(store as string, {})).toThrow(`${LOCAL_MODELS_STAMP} is missing`);
      writeFileSync(path.join(store, LOCAL_MODELS_STAMP), '{"docs_sha256": "1"}\n');
      const basis = promotionBasis(store);
      writePromotion(store, { embed: { name: "embed", version: "2", mar: "embed-v2.mar" } });
      writePromotion(store, { rerank: { name: "rerank", version: "2", mar: "rerank-v2.mar" } });
      const record = readPromotion(store);
      expect(record).toEqual({
        basis,
        embed: { name: "embed", version: "2", mar: "embed-v2.mar" },
        rerank: { name: "rerank", version: "2", mar: "rerank-v2.mar" },
      });
      expect(JSON.parse(readFileSync(path.join(store, PROMOTION_FILE), "utf8"))).toEqual(record);
      expect(servedModels(BUILT, record, promotionBasis(store), always).models.rerank.version).toBe("2");
      writeFileSync(path.join(store, LOCAL_MODELS_STAMP), '{"docs_sha256": "2"}\n');
      expect(servedModels(BUILT, record, promotionBasis(store), always).models).toEqual(BUILT);
    });
  });
});
