import * as alicloud from "@pulumi/alicloud";
import * as pulumi from "@pulumi/pulumi";
import type { BucketSettings } from "./settings";

export interface PrivateBucketArgs {
  /** The bucket's global cloud name. */
  readonly bucketName: string;
  readonly settings: BucketSettings;
  readonly tags: Record<string, string>;
  /** Name of the bucket receiving access logs; used when `settings.accessLogPrefix` is set. */
  readonly accessLogsBucket?: pulumi.Input<string>;
}

/**
 * Bucket attributes that the dedicated resources below own. The provider asks for them to be
 * ignored on the bucket, or each update would try to revert what the dedicated resource set.
 */
const MANAGED_ELSEWHERE = ["acl", "serverSideEncryptionRule", "versioning", "logging"];

/**
 * One private bucket and its settings, each as the dedicated provider resource (the bucket's
 * inline `acl` is deprecated). `opts` (parent, protect, retainOnDelete) applies to all of them:
 * deleting any settings resource would weaken the bucket, so in prod each is protected too.
 */
export function privateBucket(
  name: string,
  args: PrivateBucketArgs,
  opts: pulumi.CustomResourceOptions,
): alicloud.oss.Bucket {
  const { settings } = args;
  const bucket = new alicloud.oss.Bucket(
    name,
    {
      bucket: args.bucketName,
      // Lifecycle has no dedicated resource in this provider version, so it stays inline.
      lifecycleRules: [...settings.lifecycleRules],
      forceDestroy: settings.forceDestroy,
      tags: args.tags,
    },
    { ...opts, ignoreChanges: MANAGED_ELSEWHERE },
  );

  new alicloud.oss.BucketAcl(`${name}-acl`, { bucket: bucket.bucket, acl: settings.acl }, opts);
  new alicloud.oss.BucketPublicAccessBlock(
    `${name}-public-access-block`,
    { bucket: bucket.bucket, blockPublicAccess: settings.blockPublicAccess },
    opts,
  );
  new alicloud.oss.BucketServerSideEncryption(
    `${name}-encryption`,
    { bucket: bucket.bucket, ...settings.encryption },
    opts,
  );
  if (settings.versioning) {
    new alicloud.oss.BucketVersioning(
      `${name}-versioning`,
      { bucket: bucket.bucket, status: settings.versioning },
      opts,
    );
  }
  if (settings.accessLogPrefix !== undefined) {
    if (args.accessLogsBucket === undefined) {
      throw new pulumi.ResourceError(`bucket ${name}: access logging needs an access-logs bucket`, opts.parent);
    }
    new alicloud.oss.BucketLogging(
      `${name}-logging`,
      { bucket: bucket.bucket, targetBucket: args.accessLogsBucket, targetPrefix: settings.accessLogPrefix },
      opts,
    );
  }
  return bucket;
}
