import { mkdir, writeFile } from "node:fs/promises";
import * as path from "node:path";
import { gzipSync } from "node:zlib";
import type Credential from "@alicloud/credentials";
import type { TelemetryEvent } from "./events";

/**
 * The OSS event log that models/ reads as training data (models/README.md, "Event-log schema"):
 * gzipped JSONL objects under `logs/events/dt=YYYY-MM-DD/hour=HH/`, one event per line with
 * `type, ts, userId, queryId, query, docId, position, channel, value` (plus `traceId` and the
 * caller's `principalId`, which prepare ignores; a principal's groups are never logged). Exposures of the recommendations feed have no query and would fail prepare's check
 * that every `expose` has one, so `recs` events go under a sibling prefix instead (EVENT_LOG_RECS_PREFIX).
 */

export interface ObjectStore {
  put(key: string, body: Buffer): Promise<void>;
}

/** A local folder standing in for the bucket (tests, local runs): same keys, same bytes. */
export class FolderStore implements ObjectStore {
  constructor(private readonly root: string) {}

  async put(key: string, body: Buffer): Promise<void> {
    const file = path.join(this.root, ...key.split("/"));
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, body);
  }
}

/**
 * OSS through the official ali-oss client, on the bucket's internal endpoint. Credentials come from
 * `@alicloud/credentials` at each write (it caches them and refreshes RRSA's STS credentials before
 * they expire); the client is rebuilt when they change.
 */
export class OssStore implements ObjectStore {
  private client: any;
  private signedWith = "";

  constructor(
    private readonly options: { bucket: string; region: string; endpoint?: string | undefined },
    private readonly credential: Credential,
  ) {}

  private async current(): Promise<any> {
    const c = await this.credential.getCredential();
    const key = `${c.accessKeyId}\u0000${c.securityToken ?? ""}`;
    if (!this.client || key !== this.signedWith) {
      const OSS = require("ali-oss");
      this.client = new OSS({
        bucket: this.options.bucket,
        region: this.options.region,
        ...(this.options.endpoint ? { endpoint: this.options.endpoint } : {}),
        accessKeyId: c.accessKeyId,
        accessKeySecret: c.accessKeySecret,
        ...(c.securityToken ? { stsToken: c.securityToken } : {}),
        secure: true,
        timeout: 30_000,
      });
      this.signedWith = key;
    }
    return this.client;
  }

  async put(key: string, body: Buffer): Promise<void> {
    await (await this.current()).put(key, body, {
      headers: { "Content-Type": "application/x-ndjson", "Content-Encoding": "gzip" },
    });
  }
}

export function logLine(event: TelemetryEvent): Record<string, unknown> {
  return {
    type: event.type,
    ts: event.ts,
    userId: event.userId,
    ...(event.principalId !== undefined ? { principalId: event.principalId } : {}),
    queryId: event.queryId,
    ...(event.query !== undefined ? { query: event.query } : {}),
    ...(event.docId !== undefined ? { docId: event.docId } : {}),
    ...(event.position !== undefined ? { position: event.position } : {}),
    ...(event.channel !== undefined ? { channel: event.channel } : {}),
    ...(event.value !== undefined ? { value: event.value } : {}),
    ...(event.traceId !== undefined ? { traceId: event.traceId } : {}),
  };
}

/**
 * The object key of one batch. It is named by the batch's first sequence number, so a retried put
 * overwrites its own earlier attempt instead of duplicating events.
 */
export function batchKey(prefix: string, instance: string, firstSeq: number, at: Date): string {
  const day = at.toISOString().slice(0, 10);
  const hour = at.toISOString().slice(11, 13);
  return `${prefix}dt=${day}/hour=${hour}/${instance}-${String(firstSeq).padStart(12, "0")}.jsonl.gz`;
}

export function encodeBatch(lines: readonly object[]): Buffer {
  return gzipSync(`${lines.map((l) => JSON.stringify(l)).join("\n")}\n`);
}
