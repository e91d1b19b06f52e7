import * as path from "node:path";
import type { ModelEndpoints, RelevanceProfile } from "@search-backbone/relevance";
import { writePromotion } from "../promotion.ts";
import type { Api } from "./api.ts";
import { type BackboneRun, backboneCli, type IngestReport, ingest, setup, sourceFolder } from "./backbone.ts";
import { readJson, writeJsonAtomic } from "./files.ts";
import { type Kind, type ModelsCli, packageVersion } from "./models.ts";
import type { Stack } from "./stack.ts";
import type { TorchServeClient } from "./torchserve.ts";
import { archiveName, nextVersion, type Promoted, promotedConfig } from "./versions.ts";

/**
 * Steps 6 and 7 of the loop, shared by `npm run loop` and the end-to-end test: package each trained
 * model, register it with the running TorchServe as version n+1 and prove it serves; render the
 * profile and endpoints that name the new versions; the backbone's setup creates the new index
 * generation and its ingestion re-embeds into it and swaps the alias; the orchestrator reloads its
 * model files; TorchServe's default moves; the next ingestion retires the old generation. Then the
 * stack's description and the promotion record (read by the next `npm start`) name the new versions.
 */

export type Step = <T>(name: string, run: () => Promise<T>, note?: (r: T) => string) => Promise<T>;

export interface SwapContext {
  readonly root: string;
  readonly stackFile: string;
  readonly stack: Stack;
  readonly api: Api;
  readonly ts: TorchServeClient;
  readonly m: ModelsCli;
  /** This run's folder (staging for archives, the rendered profile and endpoints). */
  readonly work: string;
  /** The documents folder ingestion reads as raw/. */
  readonly raw: string;
  /** A query the corpus answers: the probe that the orchestrator searches the new generation. */
  readonly probe: string;
  readonly step: Step;
  readonly say: (step: string, message: string) => void;
  readonly echo: (step: string) => (line: string) => void;
}

export interface SwapResult {
  readonly promoted: { readonly embed?: Promoted; readonly rerank?: Promoted };
  readonly profile: RelevanceProfile;
  readonly endpoints: ModelEndpoints;
  /** The ingestion that filled the new generation and swapped the alias (a new embedder only). */
  readonly ingest?: IngestReport;
  /** The next ingestion run, which retired the old generation (a new embedder only). */
  readonly retire?: IngestReport;
}

export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const until = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > until) throw new Error(`${what}: not reached within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Serves `trained` (a model folder per kind to promote) and swaps the stack over to it. */
export async function serveAndSwap(c: SwapContext, trained: Partial<Record<Kind, string>>): Promise<SwapResult> {
  const { stack, ts, step, say } = c;
  const names: Record<Kind, string> = { embed: stack.models.embed.name, rerank: stack.models.rerank.name };
  const kinds = (["embed", "rerank"] as const).filter((k) => trained[k] !== undefined);
  if (kinds.length === 0) throw new Error("serveAndSwap: no trained model to promote");

  // 6. Package, register as version n+1, prove it serves.
  const promoted: { embed?: Promoted; rerank?: Promoted } = {};
  for (const kind of kinds) {
    const name = names[kind];
    promoted[kind] = await step(
      `6 serve ${kind}`,
      async () => {
        const version = nextVersion((await ts.versions(name)).map((v) => v.modelVersion));
        const archive = archiveName(name, version);
        await packageVersion(c.m, {
          kind,
          model: trained[kind] as string,
          name,
          version,
          staging: path.join(c.work, `package-${kind}`),
          modelStore: stack.torchserve.modelStore,
          archive,
        });
        const registered = await ts.register(name, archive);
        say(`6 serve ${kind}`, registered.status);
        if (kind === "embed") {
          const dims = await ts.embedDims(name, version);
          if (dims !== stack.models.embed.dims)
            throw new Error(`${name} v${version} serves ${dims} dimensions, not ${stack.models.embed.dims}`);
        } else {
          const scores = await ts.rerankScores(name, version);
          if (!scores.every((s) => s >= 0 && s <= 1))
            throw new Error(`${name} v${version} served scores ${scores} outside [0, 1]`);
        }
        return { name, version };
      },
      (p) =>
        `${p.name} v${p.version} registered from ${archiveName(p.name, p.version)} and answers the contract at /predictions/${p.name}/${p.version}`,
    );
  }

  // 7. New profile/endpoints → setup → ingestion fills the new generation and swaps the alias →
  // the orchestrator reloads → TorchServe's default moves → the old generation is retired.
  const next = promotedConfig(
    readJson<RelevanceProfile>(stack.backbone.profileFile),
    readJson<ModelEndpoints>(stack.backbone.endpointsFile),
    stack.torchserve.inference,
    promoted,
  );
  const files = { profile: path.join(c.work, "profile.json"), endpoints: path.join(c.work, "endpoints.json") };
  writeJsonAtomic(files.profile, next.profile);
  writeJsonAtomic(files.endpoints, next.endpoints);
  const b: BackboneRun = {
    cli: await backboneCli(c.root, c.echo("7 backbone")),
    stack,
    source: sourceFolder(c.raw, path.join(stack.work, "loop")),
    echo: c.echo("7 backbone"),
  };
  await step(
    "7 setup",
    () => setup(b, files),
    () => `profile embedding.model ${next.profile.embedding.model}, rerank ${next.profile.rerank.model}`,
  );
  let filled: IngestReport | undefined;
  if (promoted.embed) {
    filled = await step(
      "7 ingest",
      () => ingest(b, files),
      (r) =>
        `${r.ingested}/${r.listed} documents, ${r.chunks} chunks re-embedded (${r.chunksPerSecond.toFixed(1)} chunks/s), ${r.failed.length} failed; alias swapped: ${r.swapped}`,
    );
    if (!filled.swapped) say("7 ingest", "the alias already named this generation (an earlier run built it)");
  }
  await step(
    "7 orchestrator",
    async () => {
      // The orchestrator watches its PROFILE_FILE and ENDPOINTS_FILE and reloads a consistent pair.
      writeJsonAtomic(stack.backbone.endpointsFile, next.endpoints);
      writeJsonAtomic(stack.backbone.profileFile, next.profile);
      const want = { embedding: next.endpoints.embedding.model, rerank: next.endpoints.rerank.model };
      await waitFor(
        `the orchestrator reloading its model files (its /metrics orchestrator_model_info naming ${want.embedding} and ${want.rerank})`,
        async () => {
          const using = await c.api.modelsInUse();
          return using.embedding === want.embedding && using.rerank === want.rerank;
        },
        60_000,
      );
      if (!promoted.embed) return `it queries with ${want.embedding} and reranks with ${want.rerank}`;
      // Its pin of the alias's index lasts a few seconds (INDEX_PIN_TTL_MS); until it moves to the new
      // generation, kNN is skipped with a warning. The first answer without one uses the new vectors.
      await waitFor(
        "an answer using kNN on the new generation",
        async () => !(await c.api.search(c.probe)).warnings.some((w) => /expects embedding/.test(w.message)),
        60_000,
      );
      return `it queries with ${want.embedding} (kNN on the new generation) and reranks with ${want.rerank}`;
    },
    (r) => r,
  );
  const served = [promoted.embed, promoted.rerank].filter((p) => p !== undefined);
  await step(
    "7 default version",
    async () => {
      for (const p of served) await ts.setDefault(p.name, p.version);
      return (await Promise.all(served.map((p) => ts.defaultVersion(p.name)))).map(
        (v) => `${v.modelName} -> v${v.modelVersion}`,
      );
    },
    (r) => `TorchServe defaults ${r.join(", ")}`,
  );
  let retired: IngestReport | undefined;
  if (promoted.embed) {
    retired = await step(
      "7 retire",
      () => ingest(b, files),
      (r) =>
        `the next ingestion run (as the CronJob's) retired ${r.retired.length ? `${[...new Set(r.retired)].join(", ")} on both engines` : "nothing"}; ${r.ingested} documents changed`,
    );
  }
  // The stack now serves the promoted versions; its description says so for the next loop and the
  // e2e test, and the promotion record makes the next `npm start` serve them too.
  const models = {
    embed: { ...stack.models.embed, ...(promoted.embed ? { version: promoted.embed.version } : {}) },
    rerank: { ...stack.models.rerank, ...(promoted.rerank ? { version: promoted.rerank.version } : {}) },
  };
  writeJsonAtomic(c.stackFile, { ...readJson<Record<string, unknown>>(c.stackFile), models });
  const withArchive = (p: Promoted | undefined) => (p ? { ...p, mar: archiveName(p.name, p.version) } : undefined);
  writePromotion(stack.torchserve.modelStore, {
    embed: withArchive(promoted.embed),
    rerank: withArchive(promoted.rerank),
  });
  say("7 promotion", `recorded in ${stack.torchserve.modelStore}: the next npm start serves these versions`);
  return {
    promoted,
    profile: next.profile,
    endpoints: next.endpoints,
    ...(filled ? { ingest: filled } : {}),
    ...(retired ? { retire: retired } : {}),
  };
}
