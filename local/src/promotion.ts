import { createHash } from "node:crypto";
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import type { LocalModels } from "./render.ts";

/**
 * The promotion record: which model versions `npm run loop` promoted, so that the next `npm start`
 * serves them (their archives, profile and index generation) instead of version 1 again. It lives in
 * the model store beside the archives it names, as `promoted.json`. Its `basis` is the SHA-256 of
 * the inputs stamp that models/ local-models wrote for the version 1 the promoted versions descend
 * from: when local-models rebuilds version 1 (other documents, code or base weights), the promoted
 * versions were fine-tuned from something that is gone, and version 1 is served again.
 */

export type Role = "embed" | "rerank";
export const ROLES: readonly Role[] = ["embed", "rerank"];

export interface PromotedModel {
  readonly name: string;
  readonly version: string;
  readonly mar: string;
}

export interface Promotion {
  readonly basis: string;
  readonly embed?: PromotedModel;
  readonly rerank?: PromotedModel;
}

export const PROMOTION_FILE = "promoted.json";
/** models/ local-models' inputs stamp (backbone_models/local_models.py, STAMP). */
export const LOCAL_MODELS_STAMP = "local-models.inputs.json";

export class PromotionError extends Error {
  override name = "PromotionError";
}

/** The basis of a model store now: the hash of local-models' stamp, or undefined when there is none. */
export function promotionBasis(modelStore: string): string | undefined {
  const stamp = path.join(modelStore, LOCAL_MODELS_STAMP);
  return existsSync(stamp) ? createHash("sha256").update(readFileSync(stamp)).digest("hex") : undefined;
}

export function parsePromotion(json: string, where: string): Promotion {
  const fail = (field: string, value: unknown, expected: string): never => {
    throw new PromotionError(
      `${where}: ${field} is ${value === undefined ? "nothing" : JSON.stringify(value)}; expected ${expected} (delete the file to serve version 1)`,
    );
  };
  let value: any;
  try {
    value = JSON.parse(json);
  } catch (error) {
    throw new PromotionError(`${where}: not JSON (${(error as Error).message}); delete the file to serve version 1`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) fail("the file", value, "an object");
  if (typeof value.basis !== "string" || !/^[0-9a-f]{64}$/.test(value.basis))
    fail("basis", value.basis, "a SHA-256 in hex");
  const out: { basis: string; embed?: PromotedModel; rerank?: PromotedModel } = { basis: value.basis };
  for (const role of ROLES) {
    const m = value[role];
    if (m === undefined) continue;
    if (typeof m?.name !== "string" || m.name === "") fail(`${role}.name`, m?.name, "a model name");
    if (typeof m.version !== "string" || !/^[0-9]+$/.test(m.version))
      fail(`${role}.version`, m.version, 'a version number as a string, e.g. "2"');
    if (typeof m.mar !== "string" || !/^[^/\\]+\.mar$/.test(m.mar))
      fail(`${role}.mar`, m.mar, "an archive file name in the model store");
    out[role] = { name: m.name, version: m.version, mar: m.mar };
  }
  return out;
}

export function readPromotion(modelStore: string): Promotion | undefined {
  const file = path.join(modelStore, PROMOTION_FILE);
  return existsSync(file) ? parsePromotion(readFileSync(file, "utf8"), file) : undefined;
}

/**
 * The models to serve: version 1 as local-models built it, each role replaced by its promoted
 * version when the record's basis is this build of version 1 and the archive is still there. The
 * notes say what was chosen and why, for the start's progress lines.
 */
export function servedModels(
  built: LocalModels,
  record: Promotion | undefined,
  basis: string | undefined,
  archiveExists: (mar: string) => boolean,
): { models: LocalModels; notes: string[] } {
  if (!record) return { models: built, notes: [] };
  const promoted = ROLES.filter((r) => record[r] !== undefined);
  const named = promoted.map((r) => `${record[r]?.name} v${record[r]?.version}`).join(", ");
  if (record.basis !== basis) {
    return {
      models: built,
      notes: [
        `not serving the promoted ${named}: local-models rebuilt version 1 since (its documents, code or base weights changed), and they were fine-tuned from the earlier build`,
      ],
    };
  }
  const notes: string[] = [];
  let models: LocalModels = built;
  for (const role of promoted) {
    const p = record[role] as PromotedModel;
    if (p.name !== built[role].name) {
      notes.push(
        `not serving the promoted ${p.name} v${p.version}: the ${role} model is now named ${built[role].name}`,
      );
    } else if (!archiveExists(p.mar)) {
      notes.push(`not serving the promoted ${p.name} v${p.version}: its archive ${p.mar} is missing`);
    } else {
      models = { ...models, [role]: { ...built[role], version: p.version, mar: p.mar } };
      notes.push(`serving ${p.name} v${p.version} (${p.mar}), promoted by npm run loop`);
    }
  }
  return { models, notes };
}

/**
 * The record after a promotion: the roles promoted now, on top of what an earlier promotion of the
 * same basis recorded (a run that promotes only the reranker keeps the promoted embedder).
 */
export function nextPromotion(
  previous: Promotion | undefined,
  basis: string,
  promoted: { readonly [R in Role]?: PromotedModel },
): Promotion {
  const kept = previous?.basis === basis ? previous : { basis };
  return {
    ...kept,
    basis,
    ...Object.fromEntries(ROLES.filter((r) => promoted[r]).map((r) => [r, { ...promoted[r] }])),
  };
}

/** Records the promotion in the model store (atomically: a start never reads half a file). */
export function writePromotion(modelStore: string, promoted: { readonly [R in Role]?: PromotedModel }): Promotion {
  const basis = promotionBasis(modelStore);
  if (!basis)
    throw new PromotionError(`${path.join(modelStore, LOCAL_MODELS_STAMP)} is missing: not a local-models store`);
  let previous: Promotion | undefined;
  try {
    previous = readPromotion(modelStore);
  } catch {
    previous = undefined; // an unreadable record is replaced by this promotion
  }
  const record = nextPromotion(previous, basis, promoted);
  const file = path.join(modelStore, PROMOTION_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(record, null, 2)}\n`);
  renameSync(tmp, file);
  return record;
}
