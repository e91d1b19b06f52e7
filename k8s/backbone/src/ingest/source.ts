import { createHash } from "node:crypto";
import { readdir, readFile, stat } from "node:fs/promises";
import * as path from "node:path";

/** One object under raw/: its key and ETag (which changes whenever its content does). */
export interface SourceObject {
  readonly key: string;
  readonly etag: string;
}

export interface DocumentSource {
  list(prefix: string): Promise<SourceObject[]>;
  get(key: string): Promise<Buffer>;
}

export interface OssSourceOptions {
  readonly bucket: string;
  readonly region: string;
  /** The VPC endpoint, e.g. https://oss-cn-hangzhou-internal.aliyuncs.com; in-cluster traffic stays private. */
  readonly endpoint?: string;
  readonly accessKeyId: string;
  readonly accessKeySecret: string;
  readonly securityToken?: string;
}

/** OSS through the official ali-oss SDK (ListObjectsV2 paging, GetObject). */
export class OssSource implements DocumentSource {
  private readonly client: any;

  constructor(options: OssSourceOptions) {
    const OSS = require("ali-oss") as typeof import("ali-oss");
    this.client = new OSS({
      bucket: options.bucket,
      region: options.region.startsWith("oss-") ? options.region : `oss-${options.region}`,
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      accessKeyId: options.accessKeyId,
      accessKeySecret: options.accessKeySecret,
      ...(options.securityToken ? { stsToken: options.securityToken } : {}),
      secure: true,
    });
  }

  async list(prefix: string): Promise<SourceObject[]> {
    const objects: SourceObject[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.listV2({
        prefix,
        "max-keys": 1000,
        ...(token ? { "continuation-token": token } : {}),
      });
      for (const o of page.objects ?? []) {
        if (!o.name.endsWith("/")) objects.push({ key: o.name, etag: String(o.etag).replace(/"/g, "") });
      }
      token = page.isTruncated ? page.nextContinuationToken : undefined;
    } while (token);
    return objects;
  }

  async get(key: string): Promise<Buffer> {
    const result = await this.client.get(key);
    return result.content as Buffer;
  }
}

/**
 * A folder standing in for the bucket (tests and local runs): keys are relative paths, the ETag is
 * the content's MD5 in hex, as OSS computes it for objects uploaded in one piece.
 */
export class FolderSource implements DocumentSource {
  constructor(private readonly root: string) {}

  async list(prefix: string): Promise<SourceObject[]> {
    const files = await walk(this.root);
    const objects: SourceObject[] = [];
    for (const file of files) {
      const key = path.relative(this.root, file).split(path.sep).join("/");
      if (!key.startsWith(prefix)) continue;
      objects.push({
        key,
        etag: createHash("md5")
          .update(await readFile(file))
          .digest("hex")
          .toUpperCase(),
      });
    }
    return objects.sort((a, b) => (a.key < b.key ? -1 : 1));
  }

  get(key: string): Promise<Buffer> {
    return readFile(path.join(this.root, ...key.split("/")));
  }
}

async function walk(dir: string): Promise<string[]> {
  const entries = await readdir(dir).catch(() => [] as string[]);
  const out: string[] = [];
  for (const name of entries) {
    const full = path.join(dir, name);
    if ((await stat(full)).isDirectory()) out.push(...(await walk(full)));
    else out.push(full);
  }
  return out;
}
