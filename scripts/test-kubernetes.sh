#!/usr/bin/env bash
# Every committed stack's Kubernetes manifests through a real kube-apiserver (test/kubernetes), and a
# stack on an existing cluster through the real engine and the real pulumi-kubernetes provider. The API
# server, kubectl, etcd and the provider are built from the Go module proxy once (scripts/kube.sh) and cached.
# Without Go or openssl it is skipped locally, but under CI that is a failure.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
missing=""
command -v go >/dev/null || missing="Go"
command -v openssl >/dev/null || missing="${missing:+$missing and }openssl"
if [ -n "$missing" ]; then
  [ "${CI:-}" != "true" ] || { echo "test-kubernetes: $missing required under CI" >&2; exit 1; }
  echo "test-kubernetes: skipped ($missing not on PATH)"
  exit 0
fi
started=$SECONDS
bash scripts/kube.sh build >/dev/null
echo "test-kubernetes: kube-apiserver, kubectl and etcd ready in $((SECONDS - started)) s"
started=$SECONDS
bash scripts/kube.sh provider >/dev/null
echo "test-kubernetes: pulumi-resource-kubernetes ready in $((SECONDS - started)) s"
exec vitest run --config test/kubernetes/vitest.config.mts
