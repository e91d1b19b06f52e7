#!/usr/bin/env bash
# pytest for models/ in the project's venv (scripts/setup.sh builds it). Under CI=true a missing
# venv, TorchServe or Java is a failure, not a skip.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ ! -x "$root/.venv/bin/python" ]; then
  echo "test:models: $root/.venv is missing; run bash scripts/setup.sh" >&2
  exit 1
fi
cd "$root/models"
started=$SECONDS
HF_HUB_OFFLINE=1 "$root/.venv/bin/python" -m pytest -q -p no:cacheprovider "$@"
echo "test:models: done in $((SECONDS - started)) s"
