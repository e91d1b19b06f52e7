#!/usr/bin/env bash
# Writes Pulumi.<stack>.yaml for an ephemeral test stack from stacks/profiles/ephemeral.yaml,
# with expiresAt set to now + TTL hours (default 4). Usage: scripts/new-ephemeral-stack.sh pr-123 [ttl-hours]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
stack=${1:?usage: scripts/new-ephemeral-stack.sh <stack-name> [ttl-hours]}
ttl=${2:-4}
[[ $stack =~ ^[a-z][a-z0-9-]{1,29}$ ]] || { echo "stack name '$stack': expected 2-30 lowercase letters, digits or hyphens, starting with a letter" >&2; exit 2; }
[[ $ttl =~ ^[0-9]+$ ]] && [ "$ttl" -ge 1 ] && [ "$ttl" -le 72 ] || { echo "ttl-hours '$ttl': expected a whole number from 1 to 72" >&2; exit 2; }
expires=$(date -u -d "+${ttl} hours" +%Y-%m-%dT%H:%M:%SZ)
target="$root/Pulumi.$stack.yaml"
sed "s/EXPIRES_AT/$expires/" "$root/stacks/profiles/ephemeral.yaml" > "$target"
echo "wrote $target (expires $expires)"
