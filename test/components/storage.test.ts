import { beforeAll, describe, expect, it } from "vitest";
import {
  accessLogPrefix,
  bucketSettings,
  encryptionFor,
  modelPrefix,
  STORAGE_PREFIXES,
  Storage,
  type StorageArgs,
} from "../../components/storage";
import type { BackboneConfig } from "../../stacks/config";
import { bucketName } from "../../stacks/naming";
import { standardTags } from "../../stacks/tags";
import { devConfig, ephemeralConfig, prodConfig } from "../helpers/config";
import { type MockRecorder, type RecordedResource, resolved, settle, setupMocks } from "../helpers/mocks";

const T = {
  bucket: "alicloud:oss/bucket:Bucket",
  acl: "alicloud:oss/bucketAcl:BucketAcl",
  publicAccessBlock: "alicloud:oss/bucketPublicAccessBlock:BucketPublicAccessBlock",
  encryption: "alicloud:oss/bucketServerSideEncryption:BucketServerSideEncryption",
  versioning: "alicloud:oss/bucketVersioning:BucketVersioning",
  logging: "alicloud:oss/bucketLogging:BucketLogging",
};

function argsFor(cfg: BackboneConfig, stack: string): StorageArgs {
  return {
    buckets: {
      docs: bucketName(cfg.namePrefix, stack, "docs"),
      artifacts: bucketName(cfg.namePrefix, stack, "artifacts"),
      accessLogs: bucketName(cfg.namePrefix, stack, "access-logs"),
    },
    settings: cfg.storage,
    protect: cfg.environment === "prod",
    tags: standardTags(cfg, { project: "search-backbone", stack }),
  };
}

interface Created {
  readonly storage: Storage;
  readonly args: StorageArgs;
  readonly urn: string;
  readonly children: RecordedResource[];
}

describe("Storage under mocks", () => {
  let mocks: MockRecorder;
  let dev: Created;
  let prod: Created;
  let ephemeral: Created;

  async function create(name: string, args: StorageArgs): Promise<Created> {
    const storage = new Storage(name, args);
    const urn = await resolved(storage.urn);
    await settle();
    return { storage, args, urn, children: mocks.resources.filter((r) => r.name.startsWith(`${name}-`)) };
  }
  const ofType = (c: Created, type: string) => c.children.filter((r) => r.type === type);
  /** The settings resource of `type` that applies to the bucket named `bucket`. */
  const settingFor = (c: Created, type: string, bucket: string) =>
    ofType(c, type).filter((r) => r.inputs.bucket === bucket);

  beforeAll(async () => {
    mocks = await setupMocks({
      outputs: {
        [T.bucket]: () => ({
          extranetEndpoint: "oss-cn-hangzhou.aliyuncs.com",
          intranetEndpoint: "oss-cn-hangzhou-internal.aliyuncs.com",
        }),
      },
    });
    dev = await create("dev-storage", argsFor(devConfig(), "dev"));
    prod = await create("prod-storage", argsFor(prodConfig(), "prod"));
    ephemeral = await create("pr-storage", argsFor(ephemeralConfig(), "pr-42"));
  });

  it("registers as backbone:storage:Storage and parents every child to it", () => {
    for (const c of [dev, prod, ephemeral]) {
      expect(mocks.resources.find((r) => r.urn === c.urn)?.type).toBe("backbone:storage:Storage");
      for (const child of c.children) expect(child.parent, child.name).toBe(c.urn);
    }
  });

  it("creates docs, artifacts and access-logs buckets with the given names and tags", () => {
    const buckets = ofType(dev, T.bucket);
    expect(buckets.map((b) => b.inputs.bucket).sort()).toEqual(
      ["acme-dev-access-logs", "acme-dev-artifacts", "acme-dev-docs"].sort(),
    );
    for (const bucket of buckets) expect(bucket.inputs.tags).toEqual(dev.args.tags);
  });

  it("makes every bucket private, blocks public access and encrypts it", () => {
    for (const c of [dev, prod, ephemeral]) {
      for (const bucket of ofType(c, T.bucket)) {
        const name = bucket.inputs.bucket;
        expect(settingFor(c, T.acl, name).map((r) => r.inputs.acl)).toEqual(["private"]);
        expect(settingFor(c, T.publicAccessBlock, name).map((r) => r.inputs.blockPublicAccess)).toEqual([true]);
        expect(settingFor(c, T.encryption, name)).toHaveLength(1);
        expect(bucket.inputs).not.toHaveProperty("acl");
      }
    }
  });

  it("uses AES256 in dev and KMS in prod, one setting per bucket", () => {
    expect(ofType(dev, T.encryption).map((sse) => sse.inputs.sseAlgorithm)).toEqual(["AES256", "AES256", "AES256"]);
    expect(ofType(prod, T.encryption).map((sse) => sse.inputs.sseAlgorithm)).toEqual(["KMS", "KMS", "KMS"]);
  });

  it("enables versioning on every bucket", () => {
    for (const bucket of ofType(dev, T.bucket)) {
      expect(settingFor(dev, T.versioning, bucket.inputs.bucket).map((r) => r.inputs.status)).toEqual(["Enabled"]);
    }
  });

  it("expires logs/ and noncurrent versions after the configured days", () => {
    for (const c of [dev, prod]) {
      const { logExpirationDays, noncurrentVersionExpirationDays } = c.args.settings;
      for (const name of [c.args.buckets.docs, c.args.buckets.artifacts]) {
        const bucket = ofType(c, T.bucket).find((b) => b.inputs.bucket === name)!;
        expect(bucket.inputs.lifecycleRules).toEqual([
          { id: "expire-logs", enabled: true, prefix: "logs/", expirations: [{ days: logExpirationDays }] },
          {
            id: "expire-noncurrent-versions",
            enabled: true,
            noncurrentVersionExpirations: [{ days: noncurrentVersionExpirationDays }],
          },
        ]);
      }
    }
    expect(prod.args.settings.logExpirationDays).toBe(365);
  });

  it("expires the whole access-logs bucket and never logs it into itself", () => {
    const logBucket = ofType(dev, T.bucket).find((b) => b.inputs.bucket === dev.args.buckets.accessLogs)!;
    expect(logBucket.inputs.lifecycleRules).toEqual([
      {
        id: "expire-access-logs",
        enabled: true,
        expirations: [{ days: dev.args.settings.logExpirationDays }],
        noncurrentVersionExpirations: [{ days: dev.args.settings.noncurrentVersionExpirationDays }],
      },
    ]);
    expect(settingFor(dev, T.logging, dev.args.buckets.accessLogs)).toEqual([]);
  });

  it("logs docs and artifacts into the access-logs bucket, one prefix each", () => {
    const logging = ofType(dev, T.logging).map((r) => [r.inputs.bucket, r.inputs.targetBucket, r.inputs.targetPrefix]);
    expect(logging.sort()).toEqual(
      [
        ["acme-dev-artifacts", "acme-dev-access-logs", "artifacts/"],
        ["acme-dev-docs", "acme-dev-access-logs", "docs/"],
      ].sort(),
    );
  });

  it("protects and retains every prod resource, and nothing in dev", () => {
    expect(prod.children.length).toBeGreaterThan(0);
    for (const r of prod.children) expect([r.name, r.protect, r.retainOnDelete]).toEqual([r.name, true, true]);
    for (const r of [...dev.children, ...ephemeral.children]) {
      expect([r.name, r.protect, r.retainOnDelete]).toEqual([r.name, false, false]);
    }
  });

  it("sets forceDestroy only when the settings ask for it", () => {
    for (const b of [...ofType(dev, T.bucket), ...ofType(prod, T.bucket)]) expect(b.inputs.forceDestroy).toBe(false);
    expect(ofType(ephemeral, T.bucket).map((b) => b.inputs.forceDestroy)).toEqual([true, true]);
  });

  it("skips the access-logs bucket and logging when access logging is off", async () => {
    expect(ofType(ephemeral, T.bucket).map((b) => b.inputs.bucket)).not.toContain(ephemeral.args.buckets.accessLogs);
    expect(ofType(ephemeral, T.logging)).toEqual([]);
    expect(await resolved(ephemeral.storage.accessLogsBucket)).toBeUndefined();
  });

  it("ignores on the bucket the attributes its dedicated resources own", () => {
    for (const bucket of ofType(dev, T.bucket)) {
      expect([...bucket.ignoreChanges].sort()).toEqual(["acl", "logging", "serverSideEncryptionRule", "versioning"]);
    }
  });

  it("outputs bucket names, endpoints and the prefix layout", async () => {
    const { storage } = dev;
    expect(await resolved(storage.docsBucket)).toBe("acme-dev-docs");
    expect(await resolved(storage.artifactsBucket)).toBe("acme-dev-artifacts");
    expect(await resolved(storage.accessLogsBucket)).toBe("acme-dev-access-logs");
    expect(await resolved(storage.intranetEndpoint)).toBe("oss-cn-hangzhou-internal.aliyuncs.com");
    expect(await resolved(storage.extranetEndpoint)).toBe("oss-cn-hangzhou.aliyuncs.com");
    expect(await resolved(storage.prefixes)).toEqual(STORAGE_PREFIXES);
  });
});

describe("bucket settings", () => {
  const dev = devConfig().storage;

  it("uses the configured KMS key when there is one", () => {
    expect(encryptionFor({ encryption: "KMS", kmsKeyId: "key-123" })).toEqual({
      sseAlgorithm: "KMS",
      kmsMasterKeyId: "key-123",
    });
    expect(encryptionFor({ encryption: "KMS" })).toEqual({ sseAlgorithm: "KMS" });
    expect(encryptionFor({ encryption: "AES256" })).toEqual({ sseAlgorithm: "AES256" });
  });

  it("leaves buckets unversioned, without noncurrent rules, when versioning is off", () => {
    for (const role of ["docs", "accessLogs"] as const) {
      const settings = bucketSettings(role, { ...dev, versioning: false });
      expect(settings.versioning).toBeUndefined();
      expect(JSON.stringify(settings.lifecycleRules)).not.toContain("noncurrent");
    }
  });

  it("never gives two rules of one bucket the same prefix (OSS rejects it)", () => {
    for (const role of ["docs", "artifacts", "accessLogs"] as const) {
      const prefixes = bucketSettings(role, dev).lifecycleRules.map((r) => r.prefix ?? "");
      expect(new Set(prefixes).size, role).toBe(prefixes.length);
    }
  });

  it("logs only the data buckets, each under its own prefix", () => {
    expect(bucketSettings("docs", dev).accessLogPrefix).toBe(accessLogPrefix("docs"));
    expect(bucketSettings("artifacts", dev).accessLogPrefix).toBe("artifacts/");
    expect(bucketSettings("accessLogs", dev).accessLogPrefix).toBeUndefined();
    expect(bucketSettings("docs", { ...dev, accessLogging: false }).accessLogPrefix).toBeUndefined();
  });

  it("is private and blocks public access whatever the settings", () => {
    for (const cfg of [devConfig(), prodConfig(), ephemeralConfig()]) {
      for (const role of ["docs", "artifacts", "accessLogs"] as const) {
        expect(bucketSettings(role, cfg.storage)).toMatchObject({ acl: "private", blockPublicAccess: true });
      }
    }
  });
});

describe("storage layout", () => {
  it("names every top-level prefix once, each ending in a slash", () => {
    expect(STORAGE_PREFIXES).toEqual({ raw: "raw/", logs: "logs/", training: "training/", models: "models/" });
  });

  it("builds model prefixes under models/", () => {
    expect(modelPrefix("bge-base-zh-v1.5", "2026-01-15")).toBe("models/bge-base-zh-v1.5/2026-01-15/");
    expect(modelPrefix("bge_reranker", "v3")).toBe("models/bge_reranker/v3/");
  });

  it("rejects empty parts and anything that could leave its folder", () => {
    const bad: [string, string][] = [
      ["", "v1"],
      ["bge", ""],
      ["../etc", "v1"],
      ["bge", ".."],
      ["bge", "v1/../../raw"],
      ["a/b", "v1"],
      [".hidden", "v1"],
      ["bge", "v1..2"],
      ["bge", "v 1"],
      ["x".repeat(129), "v1"],
    ];
    for (const [name, version] of bad) {
      expect(() => modelPrefix(name, version), `${name} ${version}`).toThrow(/expected 1-128/);
    }
  });
});
