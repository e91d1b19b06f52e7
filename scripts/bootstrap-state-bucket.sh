#!/usr/bin/env bash
# Creates the OSS bucket that holds Pulumi state for the S3-compatible backend (README: State backend):
# private, public access blocked, versioned (every checkpoint recoverable), encrypted at rest. It is made
# here, outside Pulumi, so no stack ever holds (and could destroy) the bucket its own state lives in.
# Safe to run again: each setting is a PUT of the desired value.
#
# Usage: scripts/bootstrap-state-bucket.sh <bucket> <region> [--kms-key-id <id>] [--dry-run]
# Needs ossutil 2.x (https://www.alibabacloud.com/help/en/oss/developer-reference/install-ossutil2) and
# credentials in OSS_ACCESS_KEY_ID / OSS_ACCESS_KEY_SECRET (and OSS_SESSION_TOKEN for STS).
# The commands are ossutil 2.0's API-level commands, one per OSS API (PutBucketVersioning,
# PutBucketEncryption, PutBucketPublicAccessBlock, PutBucketAcl); only `put-bucket-versioning`'s exact
# flags were read in its reference page, the others follow the same documented pattern.
set -euo pipefail
usage="usage: scripts/bootstrap-state-bucket.sh <bucket> <region> [--kms-key-id <id>] [--dry-run]"
bucket=${1:?$usage}
region=${2:?$usage}
shift 2
kms_key=""
dry_run=false
while [ $# -gt 0 ]; do
  case $1 in
    --kms-key-id) kms_key=${2:?--kms-key-id needs a KMS key id}; shift 2 ;;
    --dry-run) dry_run=true; shift ;;
    *) echo "bootstrap-state-bucket: unknown option '$1'; $usage" >&2; exit 2 ;;
  esac
done
# OSS bucket names: 3-63 lowercase letters, digits and hyphens, starting and ending with a letter or digit.
[[ $bucket =~ ^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$ ]] ||
  { echo "bucket '$bucket': expected 3-63 lowercase letters, digits or hyphens, not starting or ending with a hyphen" >&2; exit 2; }
[[ $region =~ ^[a-z]{2}-[a-z0-9-]+$ ]] || { echo "region '$region': expected a region id like cn-hangzhou" >&2; exit 2; }

if [ -n "$kms_key" ]; then
  encryption="{\"ApplyServerSideEncryptionByDefault\":{\"SSEAlgorithm\":\"KMS\",\"KMSMasterKeyID\":\"$kms_key\"}}"
else
  encryption='{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"AES256"}}'
fi

run() {
  echo "+ ossutil $*"
  $dry_run || ossutil "$@" --region "$region"
}

$dry_run || command -v ossutil >/dev/null ||
  { echo "bootstrap-state-bucket: ossutil 2.x is required (see the header of this script)" >&2; exit 1; }

if $dry_run || ! ossutil stat "oss://$bucket" --region "$region" >/dev/null 2>&1; then
  run mb "oss://$bucket" --acl private
fi
run api put-bucket-acl --bucket "$bucket" --acl private
run api put-public-access-block --bucket "$bucket" --public-access-block-configuration '{"BlockPublicAccess":true}'
run api put-bucket-versioning --bucket "$bucket" --versioning-configuration '{"Status":"Enabled"}'
run api put-bucket-encryption --bucket "$bucket" --server-side-encryption-rule "$encryption"
echo "state bucket oss://$bucket ready; log in with:"
echo "  pulumi login 's3://$bucket?endpoint=https://s3.oss-$region.aliyuncs.com&region=$region'"
