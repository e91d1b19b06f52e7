/**
 * Resource ARNs the policies name. Formats:
 *  - OSS `acs:oss:*:<bucket owner uid>:<bucket>[/<object>]` ("How OSS works with RAM",
 *    https://www.alibabacloud.com/help/en/oss/user-guide/how-oss-works-with-ram [V]).
 *  - AIRec instance `acs:airec:<regionId>:<accountId>:instance/<instanceId>` (AIRec "API authentication
 *    rules", help.aliyun.com/document_detail/102751.html [V]).
 *  - RAM `acs:ram:*:<accountId>:role/<name>`, `…:policy/<name>` (RAM API reference, e.g. CreateRole/GetRole [V]).
 *  - ACK `acs:cs:<regionId>:<accountId>:cluster/<clusterId>` (ACK API reference, e.g. CreateClusterNodePool [V]).
 *  - KMS `acs:kms:<regionId>:<accountId>:key/<keyId>` [I] (same scheme as the others).
 */

const ACCOUNT = /^\d{6,32}$/;
const BUCKET = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;
const PREFIX = /^([A-Za-z0-9._-]+\/)+$/;

export function checkAccount(accountId: string): string {
  if (!ACCOUNT.test(accountId))
    throw new Error(`expected a numeric Alibaba Cloud account id, got ${JSON.stringify(accountId)}`);
  return accountId;
}

function checkBucket(bucket: string): string {
  if (!BUCKET.test(bucket)) throw new Error(`expected an OSS bucket name, got ${JSON.stringify(bucket)}`);
  return bucket;
}

/** The bucket itself (bucket-level actions such as ListObjects, always with an oss:Prefix condition). */
export const ossBucketArn = (accountId: string, bucket: string): string =>
  `acs:oss:*:${checkAccount(accountId)}:${checkBucket(bucket)}`;

/** Every object under one prefix (`raw/`, `models/`, …) of one bucket. */
export function ossPrefixArn(accountId: string, bucket: string, prefix: string): string {
  if (!PREFIX.test(prefix)) throw new Error(`expected an object prefix like "raw/", got ${JSON.stringify(prefix)}`);
  return `${ossBucketArn(accountId, bucket)}/${prefix}*`;
}

export function airecInstanceArn(region: string, accountId: string, instanceId: string): string {
  if (!/^[A-Za-z0-9-]+$/.test(instanceId))
    throw new Error(`expected an AIRec instance id, got ${JSON.stringify(instanceId)}`);
  return `acs:airec:${region}:${checkAccount(accountId)}:instance/${instanceId}`;
}

export function kmsKeyArn(region: string, accountId: string, keyId: string): string {
  if (!/^[A-Za-z0-9-]+$/.test(keyId)) throw new Error(`expected a KMS key id, got ${JSON.stringify(keyId)}`);
  return `acs:kms:${region}:${checkAccount(accountId)}:key/${keyId}`;
}
