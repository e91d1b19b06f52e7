#!/usr/bin/env bash
# `npm start`. The stack itself is TypeScript that the project's Node.js 24 runs directly; when
# that Node.js is not installed yet (a fresh clone), scripts/setup.sh installs it first. Everything
# else (including a stale set-up) is decided in local/src.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
node="$root/node_modules/.bin/node"
if ! "$node" -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 24 ? 0 : 1)' 2>/dev/null; then
  echo "npm start: the project's Node.js 24 is not installed; running scripts/setup.sh first" >&2
  bash "$root/scripts/setup.sh"
  mkdir -p "$root/.local"
fi
exec "$node" "$root/local/src/main.ts" "$@"
