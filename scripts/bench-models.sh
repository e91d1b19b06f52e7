#!/usr/bin/env bash
# Throughput of the embedder and reranker (the packaged MiniLM) through a real TorchServe on loopback,
# beside the same models in process (models/bench/bench.py): texts/s and docs/s at batch 1/8/32/128, fp32
# and on a CUDA host fp16; prints the device. Needs the venv from scripts/setup.sh and a JDK 17.
# --smoke: batches 1 and 8 for a fraction of a second each (CI runs it, scripts/test-models.sh).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root/models"
exec "$root/.venv/bin/python" bench/bench.py "$@"
