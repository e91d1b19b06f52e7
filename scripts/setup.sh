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
echo "setup: npm dependencies installed ($((SECONDS - started)) s)"

engine_started=$SECONDS
bash scripts/pulumi-engine.sh >/dev/null
echo "setup: pulumi $(".tools/pulumi/v$(node -p "require('./package-lock.json').packages['node_modules/@pulumi/pulumi'].version")/bin/pulumi" version) ready ($((SECONDS - engine_started)) s)"

# Python for models/: .venv from models/requirements.txt (exact pins, every transitive package).
# PyPI has no CPU-only torch for Linux, so that is about 3 GB of wheels. They are kept in a
# wheelhouse under ~/.cache/search-backbone/pip and installed offline from there (pip's own HTTP
# cache is not enough: registries and proxies that answer no-store leave it empty). A venv built
# from the same requirements file is kept as it is.
if [ -f models/requirements.txt ]; then
  py_started=$SECONDS
  wheels="${SEARCH_BACKBONE_CACHE:-$HOME/.cache/search-backbone}/pip/wheels-cp311"
  py_stamp=.venv/.requirements.sha256
  py_want=$(sha256sum models/requirements.txt | cut -d' ' -f1)
  is311='import sys; sys.exit(sys.version_info[:2] != (3, 11))'
  if [ -f "$py_stamp" ] && [ "$(cat "$py_stamp")" = "$py_want" ] && .venv/bin/python -c "$is311" 2>/dev/null; then
    echo "setup: Python dependencies for models/ already installed ($((SECONDS - py_started)) s)"
  else
    python=${PYTHON:-}
    for candidate in python3.11 python3; do
      if [ -z "$python" ] && command -v "$candidate" >/dev/null && "$candidate" -c "$is311"; then python=$candidate; fi
    done
    [ -n "$python" ] || { echo "setup: Python 3.11 is required for models/ (set PYTHON to it)" >&2; exit 1; }
    rm -rf .venv
    "$python" -m venv .venv
    pip=(.venv/bin/pip --disable-pip-version-check --no-input)
    mkdir -p "$wheels"
    if ! "${pip[@]}" install --quiet --no-index --find-links "$wheels" -r models/requirements.txt 2>/dev/null; then
      download_started=$SECONDS
      before=$(du -sb "$wheels" | cut -f1)
      "${pip[@]}" download --quiet --only-binary=:all: --dest "$wheels" -r models/requirements.txt
      echo "setup: downloaded $((($(du -sb "$wheels" | cut -f1) - before) / 1048576)) MiB of wheels in $((SECONDS - download_started)) s"
      "${pip[@]}" install --quiet --no-index --find-links "$wheels" -r models/requirements.txt
    fi
    echo "$py_want" >"$py_stamp"
    echo "setup: Python dependencies for models/ installed in $((SECONDS - py_started)) s" \
      "(wheelhouse $(du -sh "$wheels" | cut -f1), venv $(du -sh .venv | cut -f1))"
  fi
fi
echo "setup: done in $((SECONDS - started)) s"
