import { existsSync, lstatSync, mkdirSync, readdirSync, statSync, symlinkSync } from "node:fs";
import * as path from "node:path";
import { runChild } from "./spawn.ts";
import type { Stack } from "./stack.ts";

/**
 * The backbone's own `setup` and `ingest` commands (k8s/backbone/src/cli.ts), the code the cluster's
 * Job and CronJob run, as child processes against the local engines. Setup creates the index of a
 * new generation beside the old one and leaves the alias alone while the old index serves; ingestion
 * fills the new index and swaps the alias to it once it is full; the next ingestion run retires the
 * index the alias left (k8s/backbone/src/setup/aliases.ts, retireIndices).
 */

export interface IngestReport {
  readonly listed: number;
  readonly ingested: number;
  readonly chunks: number;
  readonly failed: readonly unknown[];
  readonly seconds: number;
  readonly chunksPerSecond: number;
  readonly swapped: boolean;
  readonly retired: readonly string[];
}

const newest = (dir: string): number =>
  readdirSync(dir).reduce((latest, name) => {
    const full = path.join(dir, name);
    const s = statSync(full);
    return Math.max(latest, s.isDirectory() ? newest(full) : s.mtimeMs);
  }, 0);

/** Builds k8s/backbone when its dist/ is missing or older than its sources; returns the CLI's path. */
export async function backboneCli(root: string, echo: (line: string) => void): Promise<string> {
  const pkg = path.join(root, "k8s", "backbone");
  const cli = path.join(pkg, "dist", "cli.js");
  if (!existsSync(cli) || statSync(cli).mtimeMs < newest(path.join(pkg, "src"))) {
    echo("building k8s/backbone (its dist/ is missing or stale)");
    await runChild(
      process.execPath,
      [path.join(root, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.json"],
      {
        cwd: pkg,
        echo,
        echoStdout: true,
      },
    );
  }
  return cli;
}

/**
 * The documents as ingestion's folder source sees them: keys `raw/<docId>` (RAW_PREFIX). A folder
 * named raw is used through its parent; any other folder through a `raw` link to it under `work`.
 */
export function sourceFolder(docs: string, work: string): string {
  if (path.basename(docs) === "raw") return path.dirname(docs);
  const source = path.join(work, "source");
  const link = path.join(source, "raw");
  mkdirSync(source, { recursive: true });
  if (!existsSync(link) && !isLink(link)) symlinkSync(docs, link, "dir");
  return source;
}

const isLink = (p: string) => {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
};

export interface BackboneRun {
  readonly cli: string;
  readonly stack: Stack;
  readonly source: string;
  readonly echo: (line: string) => void;
}

function env(b: BackboneRun, files: { profile: string; endpoints: string }): Record<string, string> {
  return {
    PROFILE_FILE: files.profile,
    ENDPOINTS_FILE: files.endpoints,
    INDEX_ALIAS: b.stack.backbone.alias,
    ELASTICSEARCH_URL: b.stack.engines.elasticsearch,
    OPENSEARCH_URL: b.stack.engines.opensearch,
    SOURCE_FOLDER: b.source,
    RAW_PREFIX: "raw/",
    // As npm start's ingestion (local/src/render.ts): without a sidecar a document is public locally.
    DEFAULT_ACCESS: "public",
  };
}

export async function setup(b: BackboneRun, files: { profile: string; endpoints: string }): Promise<void> {
  await runChild(process.execPath, [b.cli, "setup"], {
    cwd: path.dirname(b.cli),
    env: env(b, files),
    echo: b.echo,
    echoStdout: true,
  });
}

export async function ingest(b: BackboneRun, files: { profile: string; endpoints: string }): Promise<IngestReport> {
  const stdout = await runChild(process.execPath, [b.cli, "ingest"], {
    cwd: path.dirname(b.cli),
    env: env(b, files),
    echo: b.echo,
    echoStdout: true,
  });
  const line = stdout.split("\n").find((l) => l.includes(" ingest: done {"));
  if (!line) throw new Error("ingest printed no report line ('ingest: done {...}')");
  return JSON.parse(line.slice(line.indexOf("{"))) as IngestReport;
}
