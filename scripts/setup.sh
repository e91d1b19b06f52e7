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
# Not `npm ci`: registries that serve only some platforms' builds of rollup's optional native
# packages (ours serves Linux only) leave those entries out of the lock, and `npm ci` then rejects
# the lock as out of sync. `npm install` installs the same locked versions; the check below keeps
# the guarantee `npm ci` gives, that the lock file is complete and is not rewritten.
lock_before=$(sha256sum package-lock.json)
npm install --no-audit --no-fund --loglevel=error
if [ "$(sha256sum package-lock.json)" != "$lock_before" ]; then
  echo "setup: package-lock.json was out of sync with package.json and has been rewritten; commit it" >&2
  [ "${CI:-}" != "true" ] || exit 1
fi
# The orchestrator (k8s/orchestrator) has its own lock and runs on its own Node.js 24 (npm `node`).
orchestrator_lock=$(sha256sum k8s/orchestrator/package-lock.json)
npm install --prefix k8s/orchestrator --no-audit --no-fund --loglevel=error
if [ "$(sha256sum k8s/orchestrator/package-lock.json)" != "$orchestrator_lock" ]; then
  echo "setup: k8s/orchestrator/package-lock.json was out of sync and has been rewritten; commit it" >&2
  [ "${CI:-}" != "true" ] || exit 1
fi
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
