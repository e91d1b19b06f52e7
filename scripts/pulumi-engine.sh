#!/usr/bin/env bash
# Provides a Pulumi CLI at least as new as the SDK, with a Node.js language host, offline-friendly.
#
# Usage: scripts/pulumi-engine.sh            # ensure the tools exist, print their bin folder
#        source <(scripts/pulumi-engine.sh --env)   # also put them (and the project's Node.js) on PATH
#
# The pinned version is the one of @pulumi/pulumi in package-lock.json. Order of preference:
#   1. .tools/pulumi/v<version>/bin already holds both binaries;
#   2. a `pulumi` on PATH at or above v<version> with pulumi-language-nodejs beside it (Homebrew and the
#      official installer ship both): used as it is, with a one-line notice, and nothing is built;
#   3. a build cached in ~/.cache/search-backbone (survives fresh clones on the same machine);
#   4. a build of exactly v<version> from the Go module proxy through the wrapper module in
#      scripts/pulumi-cli. Only this step needs Go.
# GOPROXY is honoured (teams behind a mirror such as goproxy.cn set it as usual).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
wrapper="$root/scripts/pulumi-cli"
mode=${1:-}

log() { echo "pulumi-engine: $*" >&2; }
die() { log "error: $*"; exit 1; }

[ -f "$root/package-lock.json" ] || die "package-lock.json is missing; run 'npm ci' first"
version=$(node -p "require('$root/package-lock.json').packages['node_modules/@pulumi/pulumi'].version") ||
  die "@pulumi/pulumi is not in package-lock.json"

# The wrapper module pins pkg/v3 and sdk/v3 by exact version; a mismatch would build the wrong CLI.
for module in pkg sdk; do
  grep -Eq "github.com/pulumi/pulumi/$module/v3 v$version( |$)" "$wrapper/go.mod" ||
    die "scripts/pulumi-cli/go.mod does not require github.com/pulumi/pulumi/$module/v3 v$version (the SDK version in package-lock.json); update it with: cd scripts/pulumi-cli && GOFLAGS=-mod=mod GOSUMDB=off go get github.com/pulumi/pulumi/pkg/v3@v$version github.com/pulumi/pulumi/sdk/v3@v$version && go mod tidy"
done

tools_bin="${BACKBONE_TOOLS_DIR:-$root/.tools}/pulumi/v$version/bin"
source_key=$(cat "$wrapper/go.mod" "$wrapper/go.sum" "$wrapper"/nodejs-host/*.go 2>/dev/null | sha256sum | cut -c1-12)
cache_bin="${XDG_CACHE_HOME:-$HOME/.cache}/search-backbone/pulumi/v$version-$source_key/bin"

# True when $1 >= $2 (versions like v3.276.0 or 3.276.0).
at_least() { [ "$(printf '%s\n%s\n' "${1#v}" "${2#v}" | sort -V | head -n 1)" = "${2#v}" ]; }
cli_version() { "$1/pulumi" version 2>/dev/null | head -n 1; }
has_version() { [ -x "$1/pulumi" ] && at_least "$(cli_version "$1")" "$version"; }
complete() { has_version "$1" && [ -x "$1/pulumi-language-nodejs" ]; }

link_shim() {
  # The engine launches dynamic providers through this shim; @pulumi/pulumi ships it.
  local shim="$root/node_modules/@pulumi/pulumi/pulumi-resource-pulumi-nodejs"
  [ -x "$shim" ] || die "$shim is missing; run 'npm ci' first"
  ln -sf "$shim" "$tools_bin/pulumi-resource-pulumi-nodejs"
}

build() {
  [ -z "${BACKBONE_ENGINE_NO_BUILD:-}" ] || die "pulumi v$version is not installed; run scripts/setup.sh (or scripts/pulumi-engine.sh) first"
  command -v go >/dev/null || die "Go is needed to build the Pulumi CLI (https://go.dev/dl); or put pulumi v$version on PATH"
  local out=$1 started=$SECONDS
  mkdir -p "$out"
  log "building pulumi v$version and pulumi-language-nodejs from the Go module proxy ($(go env GOPROXY))"
  # go.sum is committed and pins every module hash; the checksum database is not reachable from
  # every network (it isn't from ours), so it is off unless the caller sets GOSUMDB.
  export GOSUMDB="${GOSUMDB:-off}"
  local stamp="-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$version"
  (
    cd "$wrapper"
    # Release builds use the same tags; -trimpath keeps builds reproducible across machines.
    go build -mod=readonly -trimpath -tags osusergo,grpcnotrace -ldflags "$stamp" -o "$out/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
    go build -mod=readonly -trimpath -ldflags "$stamp" -o "$out/pulumi-language-nodejs" ./nodejs-host
  )
  log "built in $((SECONDS - started)) s"
}

if ! complete "$tools_bin"; then
  mkdir -p "$tools_bin"
  found=$(command -v pulumi || true)
  if [ -n "$found" ] && complete "$(dirname "$(readlink -f "$found")")"; then
    log "using $(readlink -f "$found") $(cli_version "$(dirname "$(readlink -f "$found")")") from PATH (pinned v$version or newer); nothing to build"
    for tool in pulumi pulumi-language-nodejs; do ln -sf "$(dirname "$(readlink -f "$found")")/$tool" "$tools_bin/$tool"; done
  else
    complete "$cache_bin" || build "$cache_bin"
    cp -f "$cache_bin/pulumi" "$cache_bin/pulumi-language-nodejs" "$tools_bin/"
  fi
fi
link_shim
complete "$tools_bin" || die "pulumi in $tools_bin is older than v$version"

if [ "$mode" = "--env" ]; then
  # node_modules/.bin holds the Node.js the project pins (the npm package `node`), which the language
  # host then runs the program with, whatever the machine's own node is.
  echo "export PATH=\"$tools_bin:$root/node_modules/.bin:\$PATH\""
else
  log "pulumi $(cli_version "$tools_bin") ready in $tools_bin"
  echo "$tools_bin"
fi
