/**
 * Cloud names, computed in one place. Buckets are global across Alibaba Cloud, so their names
 * carry the organisation's prefix and the stack; everything else is scoped to the account.
 */

export const BUCKET_PURPOSES = ["docs", "artifacts", "access-logs"] as const;
export type BucketPurpose = (typeof BUCKET_PURPOSES)[number];

/** The stem every cloud name of a stack starts with, e.g. "acme-dev"; components append their part. */
export function stackCloudName(namePrefix: string, stack: string): string {
  return `${namePrefix}-${slug(stack)}`;
}

export function bucketName(namePrefix: string, stack: string, purpose: BucketPurpose): string {
  return `${stackCloudName(namePrefix, stack)}-${purpose}`;
}

/** OSS bucket rules: 3-63 characters, lowercase letters, digits and hyphens, alphanumeric at both ends. */
export function ossBucketNameProblem(name: string): string | undefined {
  if (name.length < 3 || name.length > 63) return `"${name}" is ${name.length} characters; OSS allows 3 to 63`;
  if (!/^[a-z0-9][a-z0-9-]*[a-z0-9]$/.test(name))
    return `"${name}" may hold only lowercase letters, digits and inner hyphens`;
  return undefined;
}

/** Stack names allow characters cloud names do not (dots, underscores, capitals). */
export function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "");
}
