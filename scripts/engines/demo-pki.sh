#!/usr/bin/env bash
# A throwaway PKI for a security-enabled test node (scripts/engines.sh, OS_SECURITY=1 / ES_SECURITY=1):
# a CA, a node certificate for loopback, and the admin client certificate, with the subjects the
# cluster's certificates carry (components/search/opensearch.ts: O=search-backbone, CN=admin). Keys
# are PKCS#8, which the OpenSearch security plugin requires. Nothing here is used outside a test run.
# Usage: demo-pki.sh <folder>   (writes ca.crt, node.crt, node.key, admin.crt, admin.key into it)
set -euo pipefail

out=${1:?usage: demo-pki.sh <folder>}
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/O=search-backbone/CN=backbone-it-ca" \
  -keyout "$work/ca.key" -out "$out/ca.crt" -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null

sign() { # name, subject, extensions
  openssl req -newkey rsa:2048 -nodes -subj "$2" -keyout "$work/$1.key" -out "$work/$1.csr" 2>/dev/null
  printf '%s\n' "$3" >"$work/$1.ext"
  openssl x509 -req -in "$work/$1.csr" -CA "$out/ca.crt" -CAkey "$work/ca.key" -CAcreateserial -days 2 \
    -extfile "$work/$1.ext" -out "$out/$1.crt" 2>/dev/null
  openssl pkcs8 -topk8 -nocrypt -in "$work/$1.key" -out "$out/$1.key"
}

sign node "/O=search-backbone/CN=backbone-it-os-node" \
  "subjectAltName=DNS:localhost,IP:127.0.0.1
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth,clientAuth"
sign admin "/O=search-backbone/CN=admin" \
  "keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth"
chmod 600 "$out"/*.key
echo "demo-pki: CA, node and admin certificates in $out (valid 2 days)"
