#!/usr/bin/env bash
# Retrieval quality through the real stack on Debian's package descriptions (models/README.md,
# "Retrieval quality through the stack"): the synopsis is the query, the long description the
# relevant document; 80/20 split by a hash of the package name. Three steps:
#   1. models/bench/quality_stack.py prepare: corpus, split, fine-tuned embedder and reranker, four archives;
#   2. local/src/quality/bench.ts: engines, TorchServe, the backbone's ingestion, the orchestrator's /v1/search;
#   3. models/bench/quality_stack.py report: the table with bootstrap 95 % intervals and the `quality:` line.
# Usage: scripts/bench-quality.sh [--smoke] [--out DIR] [prepare options: --packages N --max-queries N
#        --embed-epochs N --rerank-queries N ...]. --smoke: a small corpus and a few training steps, to
# check that every stage runs (CI). On 2 cores the defaults take ~30 min (150 queries and 40 embedder steps
# took 23 min of compute on 7 December 2026); the knobs are in models/README.md.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${TMPDIR:-/tmp}/search-backbone-quality
smoke=0
prepare=()
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) smoke=1 ;;
    --out) out=$2; shift ;;
    *) prepare+=("$1") ;;
  esac
  shift
done
if [ "$smoke" = 1 ]; then
  prepare=(--packages 300 --max-queries 8 --embed-max-steps 1 --rerank-queries 2 --rerank-batch 8 "${prepare[@]}")
  out=$out-smoke
fi
# The benchmark's own ports (local/src/quality/bench.ts): refused before minutes of training, not after.
for port in 9300 9301 9310 9311 8790 8791 8792 8780; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "bench-quality: port $port on 127.0.0.1 is in use; stop what listens there (ss -ltnp)" >&2
    exit 2
  fi
done
lists=${HOME}/.cache/search-backbone/debian-apt-lists
started=$SECONDS
# The engines run as an unprivileged user (scripts/engines.sh) that must reach their folders under $out.
mkdir -p "$out" && chmod 755 "$out"
rm -f "$out/runs.json" "$out/prepare.json"
for ws in k8s/backbone k8s/orchestrator; do
  (cd "$root" && npm run build --silent --workspace="$ws" >/dev/null)
done
cd "$root/models"
HF_HUB_OFFLINE=1 "$root/.venv/bin/python" bench/quality_stack.py prepare --out "$out" --apt-lists "$lists" "${prepare[@]}"
cd "$root"
"$root/node_modules/.bin/node" local/src/quality/bench.ts --out "$out"
echo "bench-quality: corpus, training and the stack took $((SECONDS - started)) s; figures in $out" >&2
cd "$root/models"
resamples=()
[ "$smoke" = 1 ] && resamples=(--resamples 200)
"$root/.venv/bin/python" bench/quality_stack.py report --out "$out" "${resamples[@]}" | tee "$out/report.txt"
if [ "$smoke" = 1 ]; then
  # Every stage produced figures (their values are not asserted: a smoke run is too small to mean anything).
  "$root/.venv/bin/python" - "$out/report.json" <<'EOF'
import json, math, sys
runs = json.load(open(sys.argv[1]))["runs"]
want = ["bm25", "base-vector", "base-hybrid", "base-hybrid+base-rerank", "base-hybrid+tuned-rerank", "tuned-vector",
        "tuned-hybrid", "tuned-hybrid+tuned-rerank", "tuned-hybrid+base-rerank"]
missing = [r for r in want if r not in runs or not all(math.isfinite(v) for m in runs[r].values() for v in m)]
if missing:
    sys.exit(f"bench-quality --smoke: no figures for {missing}")
print(f"bench-quality --smoke: figures for all {len(want)} runs")
EOF
  rm -rf "$out"
fi
