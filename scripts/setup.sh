#!/usr/bin/env bash
# Installs everything the project needs, from package registries only: npm dependencies (exactly
# as locked, with the project's own Node.js 24), a Pulumi CLI at least as new as the SDK with a
# Node.js language host, and the Python dependencies of models/ when they exist. Safe to run again.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

command -v npm >/dev/null || { echo "setup: Node.js and npm are required (any maintained release; the project brings its own Node.js 24)" >&2; exit 1; }

started=$SECONDS
# Exactly the lock. The lock lists every platform's optional native packages (test/repo/lockfile.test.ts),
# so this works on Linux, macOS and Windows alike. package.json's allowScripts lets only the `node`
# package run its install step, which fetches the Node.js binary for this platform from the npm registry.
npm ci --no-audit --no-fund --loglevel=error
project_node="$root/node_modules/.bin/node"
want=$(node -p "require('./package.json').engines.node.replace(/[^0-9.]/g, '').split('.')[0]")
have=$("$project_node" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo none)
[ "$have" -ge "$want" ] 2>/dev/null ||
  { echo "setup: the project's Node.js in node_modules/.bin is '$have'; $want or newer is required (npm install-scripts ls?)" >&2; exit 1; }
echo "setup: npm dependencies installed, Node.js $("$project_node" --version) for every npm script (machine: $(node --version)) ($((SECONDS - started)) s)"

engine_started=$SECONDS
engine_bin=$(bash scripts/pulumi-engine.sh)
echo "setup: pulumi $("$engine_bin/pulumi" version) ready ($((SECONDS - engine_started)) s)"

if [ -f models/requirements.txt ]; then
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check -r models/requirements.txt
  echo "setup: Python dependencies for models/ installed"
fi
echo "setup: done in $((SECONDS - started)) s"
