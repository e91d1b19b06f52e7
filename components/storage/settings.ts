import { STORAGE_PREFIXES } from "./layout";

/** What each bucket gets, decided from the stack's storage settings; pure so it is tested directly. */

/** The storage component's contract; the stack maps its validated config onto it. */
export interface StorageSettings {
  readonly versioning: boolean;
  readonly encryption: Encryption["sseAlgorithm"];
  /** A customer KMS key (with KMS); unset uses the OSS-managed KMS key. */
  readonly kmsKeyId?: string | undefined;
  /** Objects under `logs/` (and the whole access-logs bucket) expire after this many days. */
  readonly logExpirationDays: number;
  /** Old object versions expire after this many days (with versioning). */
  readonly noncurrentVersionExpirationDays: number;
  /** Access logs into a separate private bucket. */
  readonly accessLogging: boolean;
  /** Empty buckets on destroy; the caller decides which stacks may. */
  readonly forceDestroy: boolean;
}

export const BUCKET_ROLES = ["docs", "artifacts", "accessLogs"] as const;
export type BucketRole = (typeof BUCKET_ROLES)[number];

export interface LifecycleRule {
  readonly id: string;
  readonly enabled: boolean;
  /** Omitted: the rule applies to the whole bucket. */
  readonly prefix?: string;
  readonly expirations?: { days: number }[];
  readonly noncurrentVersionExpirations?: { days: number }[];
}

export interface Encryption {
  readonly sseAlgorithm: "AES256" | "KMS";
  /** Only with KMS; omitted, OSS uses its service-managed KMS key. */
  readonly kmsMasterKeyId?: string;
}

export interface BucketSettings {
  readonly acl: "private";
  readonly blockPublicAccess: true;
  readonly encryption: Encryption;
  /** Undefined leaves a new bucket unversioned (no versioning resource at all). */
  readonly versioning: "Enabled" | undefined;
  readonly lifecycleRules: readonly LifecycleRule[];
  readonly forceDestroy: boolean;
  /** Where this bucket's access logs go in the access-logs bucket; undefined: not logged. */
  readonly accessLogPrefix: string | undefined;
}

export function bucketSettings(role: BucketRole, settings: StorageSettings): BucketSettings {
  const isLogBucket = role === "accessLogs";
  return {
    acl: "private",
    blockPublicAccess: true,
    encryption: encryptionFor(settings),
    versioning: settings.versioning ? "Enabled" : undefined,
    lifecycleRules: isLogBucket ? accessLogLifecycle(settings) : dataLifecycle(settings),
    forceDestroy: settings.forceDestroy,
    // The log bucket never logs into itself: every access would write a log object, forever.
    accessLogPrefix: settings.accessLogging && !isLogBucket ? accessLogPrefix(role) : undefined,
  };
}

export function encryptionFor(settings: Pick<StorageSettings, "encryption" | "kmsKeyId">): Encryption {
  if (settings.encryption === "AES256") return { sseAlgorithm: "AES256" };
  return settings.kmsKeyId ? { sseAlgorithm: "KMS", kmsMasterKeyId: settings.kmsKeyId } : { sseAlgorithm: "KMS" };
}

/** One folder per source bucket, so the log bucket's readers can tell the streams apart. */
export function accessLogPrefix(role: Exclude<BucketRole, "accessLogs">): string {
  return `${role}/`;
}

/** Search and chat logs expire; old object versions expire once versioning keeps them. */
function dataLifecycle(settings: StorageSettings): LifecycleRule[] {
  return [
    {
      id: "expire-logs",
      enabled: true,
      prefix: STORAGE_PREFIXES.logs,
      expirations: [{ days: settings.logExpirationDays }],
    },
    ...noncurrentRule(settings),
  ];
}

/**
 * Everything in the access-logs bucket is a log object, so the whole bucket expires. One rule:
 * OSS rejects two rules with the same prefix even when their actions differ (error 0014-00000085).
 */
function accessLogLifecycle(settings: StorageSettings): LifecycleRule[] {
  return [
    {
      id: "expire-access-logs",
      enabled: true,
      expirations: [{ days: settings.logExpirationDays }],
      ...noncurrentExpiry(settings),
    },
  ];
}

/**
 * Old versions expire bucket-wide. This rule overlaps "expire-logs" (prefix logs/), which OSS
 * allows because the two rules use different actions (error 0014-00000084 is same-action only).
 */
function noncurrentRule(settings: StorageSettings): LifecycleRule[] {
  if (!settings.versioning) return [];
  return [{ id: "expire-noncurrent-versions", enabled: true, ...noncurrentExpiry(settings) }];
}

function noncurrentExpiry(settings: StorageSettings): Pick<LifecycleRule, "noncurrentVersionExpirations"> {
  return settings.versioning
    ? { noncurrentVersionExpirations: [{ days: settings.noncurrentVersionExpirationDays }] }
    : {};
}
