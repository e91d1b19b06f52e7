#!/usr/bin/env bash
# Search backbone benchmark: ingestion throughput into real OpenSearch and Elasticsearch against an
# embedding endpoint of fixed latency and batch size, beside its bound, and hybrid query p50/p99.
# Knobs: BENCH_LATENCY_MS BENCH_BATCH BENCH_CONCURRENCY BENCH_DOCS BENCH_DIMS BENCH_QUERIES.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
started_here=0
running=$(bash scripts/engines.sh env)
if [[ $running != *OPENSEARCH_URL* || $running != *ELASTICSEARCH_URL* ]]; then
  bash scripts/engines.sh start all
  started_here=1
fi
eval "$(bash scripts/engines.sh env | sed 's/^/export /')"
npm run build:packages --silent && npm run build --silent --workspace=k8s/backbone
npx tsc -p scripts/bench/tsconfig.json
status=0
node node_modules/.cache/search-bench/scripts/bench/search-bench.js || status=$?
[ "$started_here" = 1 ] && bash scripts/engines.sh stop all
exit "$status"
