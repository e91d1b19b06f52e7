#!/usr/bin/env bash
# Creates an ephemeral test stack from stacks/profiles/ephemeral.yaml (cheap sizes, spot GPU, buckets
# emptied on destroy): writes Pulumi.<stack>.yaml with expiresAt = now + TTL hours (default 4) and the
# owner, then creates or selects the stack and sets the stack tags the nightly teardown reads
# (scripts/stacks/lifecycle-tags.ts): ephemeral=true, environment=ephemeral, expires-at, owner.
#
# Usage: scripts/new-ephemeral-stack.sh <stack-name> [ttl-hours] [owner] [--no-init]
#   --no-init   only write the stack file (no pulumi calls)
# The backend is whatever pulumi is logged in to (PULUMI_BACKEND_URL); secrets use PULUMI_CONFIG_PASSPHRASE.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
init=true
args=()
for arg in "$@"; do
  if [ "$arg" = "--no-init" ]; then init=false; else args+=("$arg"); fi
done
stack=${args[0]:?usage: scripts/new-ephemeral-stack.sh <stack-name> [ttl-hours] [owner] [--no-init]}
ttl=${args[1]:-4}
owner=${args[2]:-${GITHUB_ACTOR:-ci}}
[[ $stack =~ ^[a-z][a-z0-9-]{1,29}$ ]] || { echo "stack name '$stack': expected 2-30 lowercase letters, digits or hyphens, starting with a letter" >&2; exit 2; }
[[ $stack != prod && $stack != dev ]] || { echo "stack name '$stack': the long-lived stacks are never ephemeral" >&2; exit 2; }
[[ $ttl =~ ^[0-9]+$ ]] && [ "$ttl" -ge 1 ] && [ "$ttl" -le 72 ] || { echo "ttl-hours '$ttl': expected a whole number from 1 to 72" >&2; exit 2; }
[[ $owner =~ ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$ ]] || { echo "owner '$owner': expected 1-64 letters, digits, '.', '_' or '-'" >&2; exit 2; }
expires=$(date -u -d "+${ttl} hours" +%Y-%m-%dT%H:%M:%SZ)
target="$root/Pulumi.$stack.yaml"
# Quoted: `pulumi stack init` rewrites the file, and would turn a bare timestamp into Go's time format.
sed -e "s/EXPIRES_AT/\"$expires\"/" -e "s/^\(  search-backbone:owner:\).*/\1 $owner/" "$root/stacks/profiles/ephemeral.yaml" > "$target"
echo "wrote $target (owner $owner, expires $expires)"

$init || exit 0
cd "$root"
pulumi stack select --create "$stack" --non-interactive >/dev/null
pulumi stack tag set ephemeral true --stack "$stack"
pulumi stack tag set environment ephemeral --stack "$stack"
pulumi stack tag set expires-at "$expires" --stack "$stack"
pulumi stack tag set owner "$owner" --stack "$stack"
echo "stack $stack ready: tags ephemeral=true environment=ephemeral expires-at=$expires owner=$owner"
