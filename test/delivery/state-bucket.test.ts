import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { repoRoot } from "../helpers/stack-files";

/**
 * scripts/bootstrap-state-bucket.sh. No OSS is reachable here, so `ossutil` is a recorder on PATH:
 * these tests check the calls the script makes and its input checks, not OSS itself.
 */

const bin = mkdtempSync(path.join(tmpdir(), "backbone-ossutil-"));
const calls = path.join(bin, "calls.log");
writeFileSync(path.join(bin, "ossutil"), `#!/usr/bin/env bash\necho "$*" >> "${calls}"\n[ "$1" != stat ] || exit 1\n`);
chmodSync(path.join(bin, "ossutil"), 0o755);
afterAll(() => rmSync(bin, { recursive: true, force: true }));

function bootstrap(args: string[]) {
  rmSync(calls, { force: true });
  const run = spawnSync("bash", [path.join(repoRoot, "scripts/bootstrap-state-bucket.sh"), ...args], {
    encoding: "utf8",
    env: { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH}` },
  });
  const log = (() => {
    try {
      return readFileSync(calls, "utf8").trim().split("\n");
    } catch {
      return [];
    }
  })();
  return { ...run, calls: log };
}

describe("bootstrap-state-bucket.sh", () => {
  it("creates a private bucket, blocks public access, versions and encrypts it, then prints the login URL", () => {
    const run = bootstrap(["acme-pulumi-state", "cn-hangzhou"]);
    expect(run.status, run.stderr).toBe(0);
    expect(run.calls).toEqual([
      "stat oss://acme-pulumi-state --region cn-hangzhou",
      "mb oss://acme-pulumi-state --acl private --region cn-hangzhou",
      "api put-bucket-acl --bucket acme-pulumi-state --acl private --region cn-hangzhou",
      'api put-public-access-block --bucket acme-pulumi-state --public-access-block-configuration {"BlockPublicAccess":true} --region cn-hangzhou',
      'api put-bucket-versioning --bucket acme-pulumi-state --versioning-configuration {"Status":"Enabled"} --region cn-hangzhou',
      'api put-bucket-encryption --bucket acme-pulumi-state --server-side-encryption-rule {"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"AES256"}} --region cn-hangzhou',
    ]);
    expect(run.stdout).toContain(
      "pulumi login 's3://acme-pulumi-state?endpoint=https://s3.oss-cn-hangzhou.aliyuncs.com&region=cn-hangzhou'",
    );
  });

  it("uses a KMS key when given one, and calls nothing in a dry run", () => {
    const kms = bootstrap(["acme-pulumi-state", "cn-shanghai", "--kms-key-id", "key-123"]);
    expect(kms.calls.at(-1)).toContain('"SSEAlgorithm":"KMS","KMSMasterKeyID":"key-123"');
    const dry = bootstrap(["acme-pulumi-state", "cn-shanghai", "--dry-run"]);
    expect(dry.status).toBe(0);
    expect(dry.calls).toEqual([]);
    expect(dry.stdout).toContain("+ ossutil api put-bucket-versioning --bucket acme-pulumi-state");
  });

  it.each([
    [["Acme_State", "cn-hangzhou"], "bucket 'Acme_State': expected 3-63 lowercase letters"],
    [["acme-state", "Hangzhou"], "region 'Hangzhou': expected a region id like cn-hangzhou"],
    [["acme-state", "cn-hangzhou", "--public"], "unknown option '--public'"],
  ])("rejects %j before calling ossutil", (args, message) => {
    const run = bootstrap(args);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(message);
    expect(run.calls).toEqual([]);
  });
});
