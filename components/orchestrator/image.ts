import { createHash } from "node:crypto";

/**
 * The digest the Deployment runs, on the registry host the nodes pull from. The image is pushed
 * to `pushed` (`host/ns/repo@sha256:…`); nodes pull the same digest from `pullRepository` (the VPC host).
 */
export function pullReference(pullRepository: string, pushed: string): string {
  const digest = /@(sha256:[0-9a-f]{64})$/.exec(pushed)?.[1];
  if (!digest) throw new Error(`image: given repoDigest "${pushed}"; expected <repository>@sha256:<64 hex>`);
  return `${pullRepository}@${digest}`;
}

/**
 * The image tag: the package version plus a hash of the build context's files, so a tag is never
 * pushed twice with different content (ACR Enterprise tags are immutable) and an unchanged context
 * keeps its tag.
 */
export function imageTag(version: string, files: readonly { path: string; content: string | Buffer }[]): string {
  if (!/^[0-9A-Za-z][0-9A-Za-z.-]{0,40}$/.test(version))
    throw new Error(`image version: given "${version}"; expected 1-41 of A-Za-z0-9.- starting with a letter or digit`);
  const hash = createHash("sha256");
  for (const file of [...files].sort((a, b) => a.path.localeCompare(b.path))) {
    hash.update(file.path).update("\0").update(file.content).update("\0");
  }
  return `${version}-${hash.digest("hex").slice(0, 12)}`;
}
