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
# With no arguments (the test chain), the benchmarks' CPU smoke runs too: every stage must produce figures
# (their values are not asserted). A run with pytest arguments is a developer's, and stops here.
if [ $# -eq 0 ]; then
  bash "$root/scripts/bench-models.sh" --smoke
  bash "$root/scripts/bench-quality.sh" --smoke
fi
echo "test:models: done in $((SECONDS - started)) s"
