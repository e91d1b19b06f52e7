#!/usr/bin/env bash
# Unit tests of the Node.js language host (scripts/pulumi-cli/nodejs-host). Needs Go; without it
# they are skipped locally, but under CI a missing Go is a failure.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/pulumi-cli"
if ! command -v go >/dev/null; then
  [ "${CI:-}" != "true" ] || { echo "test-host: Go is required under CI" >&2; exit 1; }
  echo "test-host: skipped (no Go on PATH)"
  exit 0
fi
GOSUMDB="${GOSUMDB:-off}" go test -mod=readonly -count=1 -v ./nodejs-host/ | grep -vE "^=== (RUN|PAUSE|CONT)"
