#!/usr/bin/env bash
# Retrieval quality of the models on the public sample corpus (models/bench/quality.py): the
# pretrained MiniLM against the fine-tuned one, the fine-tuned reranker on and off, with bootstrap
# 95 % intervals. CPU, in process; trains two models, so it takes minutes (models/README.md).
# Usage: scripts/bench-quality.sh [--smoke] [--max-queries N] [...]; --docs <folder> picks another corpus.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
docs=()
case " $* " in *" --docs "*) ;; *) docs=(--docs "$(bash "$root/scripts/sample-corpus.sh")") ;; esac
cd "$root/models"
HF_HUB_OFFLINE=1 exec "$root/.venv/bin/python" bench/quality.py "${docs[@]}" "$@"
