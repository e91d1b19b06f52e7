#!/usr/bin/env bash
# Benchmark of the model endpoints through a real TorchServe on loopback, beside the in-process
# bound (models/bench/bench.py). Needs the venv from scripts/setup.sh and a JDK 17. Takes minutes.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root/models"
exec "$root/.venv/bin/python" bench/bench.py "$@"
