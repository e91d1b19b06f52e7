#!/usr/bin/env bash
# Installs everything the project needs, from package registries only: npm dependencies (exactly
# as locked), the pinned Pulumi CLI and Node.js language host, and the Python dependencies of
# models/ when they exist. Safe to run again; warm runs take seconds.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

command -v node >/dev/null || { echo "setup: Node.js 20 or newer is required" >&2; exit 1; }
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' ||
  { echo "setup: Node.js $(node --version) is too old; 20 or newer is required" >&2; exit 1; }

started=$SECONDS
npm ci --no-audit --no-fund --loglevel=error
echo "setup: npm dependencies installed ($((SECONDS - started)) s)"

engine_started=$SECONDS
bash scripts/pulumi-engine.sh >/dev/null
echo "setup: pulumi $(".tools/pulumi/v$(node -p "require('./package-lock.json').packages['node_modules/@pulumi/pulumi'].version")/bin/pulumi" version) ready ($((SECONDS - engine_started)) s)"

if [ -f models/requirements.txt ]; then
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check -r models/requirements.txt
  echo "setup: Python dependencies for models/ installed"
fi
echo "setup: done in $((SECONDS - started)) s"
