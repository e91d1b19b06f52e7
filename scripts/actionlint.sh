#!/usr/bin/env bash
# Validates .github/workflows with actionlint, built from the Go module proxy at a pinned version and
# cached under ~/.cache/search-backbone like the Pulumi CLI (a fresh clone on the same machine reuses it).
# Without Go it is skipped locally; under CI a missing Go is a failure.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
version=v1.7.12
cache="${XDG_CACHE_HOME:-$HOME/.cache}/search-backbone/actionlint/$version"
bin="$cache/actionlint"

if [ ! -x "$bin" ]; then
  if ! command -v go >/dev/null; then
    [ "${CI:-}" != "true" ] || { echo "actionlint: Go is required under CI to install actionlint $version" >&2; exit 1; }
    echo "actionlint: skipped (no Go on PATH to install actionlint $version)"
    exit 0
  fi
  started=$SECONDS
  # The checksum database is not reachable from every network; honour GOSUMDB when the caller sets it.
  GOBIN="$cache" GOSUMDB="${GOSUMDB:-off}" GOFLAGS=-mod=mod go install "github.com/rhysd/actionlint/cmd/actionlint@$version"
  echo "actionlint: installed $version in $((SECONDS - started)) s"
fi
cd "$root"
"$bin" -version | head -n 1 | sed 's/^/actionlint: /'
"$bin" -no-color .github/workflows/*.yml
echo "actionlint: $(ls .github/workflows/*.yml | wc -l) workflows passed"
