import { resourceRule, stackRule } from "../define";
import { PUBLIC_ACLS } from "../exposure";
import { TYPES } from "../types";

/** OSS server-side encryption algorithms (PutBucketEncryption: AES256, KMS, SM4). */
export const SSE_ALGORITHMS = ["AES256", "KMS", "SM4"];

export const ossNoPublicAccess = resourceRule(
  {
    name: "oss-no-public-access",
    description: "OSS buckets stay private: no public ACL and public access blocked.",
    enforcementLevel: "mandatory",
  },
  ({ type, props }, _facts, report) => {
    if ((type === TYPES.bucket || type === TYPES.bucketAcl) && PUBLIC_ACLS.includes(props.acl)) {
      report(`bucket ${props.bucket ?? ""} has ACL "${props.acl}"; expected "private"`);
    }
    if (type === TYPES.bucketPublicAccessBlock && props.blockPublicAccess !== true) {
      report(`bucket ${props.bucket ?? ""} has blockPublicAccess ${props.blockPublicAccess}; expected true`);
    }
  },
);

const encrypts = (rule: any): boolean => SSE_ALGORITHMS.includes(rule?.sseAlgorithm);

export const ossEncrypted = stackRule(
  {
    name: "oss-encrypted",
    description: "Every OSS bucket has server-side encryption (AES256, KMS or SM4), inline or as its own resource.",
    enforcementLevel: "mandatory",
  },
  (resources, _facts, report) => {
    const encrypted = new Set(
      resources.filter((r) => r.type === TYPES.bucketEncryption && encrypts(r.props)).map((r) => r.props.bucket),
    );
    for (const bucket of resources.filter((r) => r.type === TYPES.bucket)) {
      if (encrypts(bucket.props.serverSideEncryptionRule) || encrypted.has(bucket.props.bucket)) continue;
      report(
        `bucket ${bucket.props.bucket ?? bucket.name} has no server-side encryption; expected a BucketServerSideEncryption with sseAlgorithm ${SSE_ALGORITHMS.join(", ")}`,
        bucket.urn,
      );
    }
  },
);
