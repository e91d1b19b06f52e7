#!/usr/bin/env bash
# A real Kubernetes API server for the tests: kube-apiserver, kubectl and etcd built from the Go module
# proxy (pinned by scripts/kube/go.mod and go.sum), started on loopback with a throwaway PKI.
#
# Usage: scripts/kube.sh build        # ensure the binaries exist, print their folder
#        scripts/kube.sh provider     # ensure pulumi-resource-kubernetes exists, print its folder
#        scripts/kube.sh start <dir>  # start etcd and the API server with their state and PKI in <dir>
#                                     # (created, must be empty); prints <dir>/kubeconfig when ready
#        scripts/kube.sh stop <dir>   # stop both by PID and remove <dir>
#
# Only the finished binaries are cached, in ~/.cache/search-backbone/kube/<go version>-<key>, keyed on
# go.mod, go.sum and the build flags below: a fresh clone on the same machine starts without
# building. The Go build cache stays where Go keeps it (never in the repository).
# Ports: KUBE_APISERVER_PORT (6443) and KUBE_ETCD_PORT (2379; its peer port is the next one).
# There are no nodes, no kubelet and no controllers: objects are validated, admitted and stored, and
# nothing runs. etcd listens on loopback without TLS: it holds only a test's throwaway objects.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
module="$root/scripts/kube"
mode=${1:-}

log() { echo "kube: $*" >&2; }
die() { log "error: $*"; exit 1; }

# k8s.io/kubernetes must be told its version, or clients misread the server's (it is stamped by its
# own release scripts, which a module build skips).
k8s_version=$(awk '$1 == "k8s.io/kubernetes" { print $2; exit }' "$module/go.mod")
[[ $k8s_version =~ ^v1\.([0-9]+)\.[0-9]+$ ]] || die "scripts/kube/go.mod does not require k8s.io/kubernetes v1.x.y"
k8s_minor=${BASH_REMATCH[1]}
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$k8s_minor -X $pkg.gitTreeState=clean"
done

cache_dir() {
  local go_version key
  go_version=$(go env GOVERSION)
  key=$(cat "$module/go.mod" "$module/go.sum" <(echo "$ldflags") | sha256sum | cut -c1-12)
  echo "${XDG_CACHE_HOME:-$HOME/.cache}/search-backbone/kube/$go_version-$key"
}

complete() { [ -x "$1/kube-apiserver" ] && [ -x "$1/kubectl" ] && [ -x "$1/etcd" ]; }

build() {
  command -v go >/dev/null || die "Go is needed to build kube-apiserver, kubectl and etcd (https://go.dev/dl)"
  local bin
  bin="$(cache_dir)/bin"
  if complete "$bin"; then echo "$bin"; return; fi
  local started=$SECONDS tmp
  tmp=$(mktemp -d "$(dirname "$bin")/.build-XXXXXX" 2>/dev/null || { mkdir -p "$(dirname "$bin")" && mktemp -d "$(dirname "$bin")/.build-XXXXXX"; })
  # shellcheck disable=SC2064 # expand now: the folder to remove is this one
  trap "rm -rf '$tmp'" EXIT
  log "building kube-apiserver, kubectl ($k8s_version) and etcd from the Go module proxy ($(go env GOPROXY))"
  # go.sum is committed and pins every module hash; the checksum database is not reachable from every
  # network, so it is off unless the caller sets GOSUMDB (as for the Pulumi CLI).
  (
    cd "$module"
    export GOSUMDB="${GOSUMDB:-off}"
    go build -mod=readonly -trimpath -ldflags "$ldflags" -o "$tmp/" \
      k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kubectl
    go build -mod=readonly -trimpath -ldflags "-s -w" -o "$tmp/etcd" go.etcd.io/etcd/server/v3
  )
  rm -rf "$bin" && mv "$tmp" "$bin"
  trap - EXIT
  log "built in $((SECONDS - started)) s into $bin"
  echo "$bin"
}

# The pulumi-kubernetes provider, pinned by scripts/kube-provider/go.mod and go.sum. Its main.go embeds
# schema-embed.json and terraform-mapping-embed.json, which its own `go generate` makes from the shipped
# schema.json and terraform-mapping.json and which the module zip lacks; so the main package is copied
# into a scratch module (this go.mod and go.sum) and those two files are made there the same way: the
# schema with its version set, the mapping re-serialised compactly (what generate.go does, in Node.js).
provider_module="$root/scripts/kube-provider"
provider_path=github.com/pulumi/pulumi-kubernetes/provider/v4
provider_source=$(awk -v p="$provider_path" '$1 == p { print $2; exit } $1 == "require" && $2 == p { print $3; exit }' "$provider_module/go.mod")
# The version it reports: the pseudo-version, which names the commit exactly. The module path
# provider/v4 has no tags of its own, so the proxy knows the release only by its commit: f47bc2d6f199
# is the commit pulumi/pulumi-kubernetes tagged v4.25.0
# (https://github.com/pulumi/pulumi-kubernetes/releases/tag/v4.25.0).
provider_version=${provider_source#v}
provider_ldflags="-s -w -X $provider_path/pkg/version.Version=$provider_version"

provider_cache_dir() {
  local key
  key=$(cat "$provider_module/go.mod" "$provider_module/go.sum" <(echo "$provider_ldflags") | sha256sum | cut -c1-12)
  echo "${XDG_CACHE_HOME:-$HOME/.cache}/search-backbone/kube/provider-$(go env GOVERSION)-$key"
}

provider() {
  command -v go >/dev/null || die "Go is needed to build pulumi-resource-kubernetes (https://go.dev/dl)"
  local node="$root/node_modules/.bin/node"
  [ -x "$node" ] || die "the project's Node.js is needed to embed the provider's schema (bash scripts/setup.sh)"
  [ -n "$provider_source" ] || die "scripts/kube-provider/go.mod does not require $provider_path"
  local bin
  bin="$(provider_cache_dir)/bin"
  if [ -x "$bin/pulumi-resource-kubernetes" ]; then echo "$bin"; return; fi
  local started=$SECONDS tmp src
  mkdir -p "$(dirname "$bin")"
  tmp=$(mktemp -d "$(dirname "$bin")/.build-XXXXXX")
  # shellcheck disable=SC2064 # expand now: the folder to remove is this one
  trap "rm -rf '$tmp'" EXIT
  log "building pulumi-resource-kubernetes $provider_version from the Go module proxy ($(go env GOPROXY))"
  (
    export GOSUMDB="${GOSUMDB:-off}"
    src=$(cd "$provider_module" && go mod download -json "$provider_path@$provider_source" |
      "$node" -e 'process.stdout.write(JSON.parse(require("node:fs").readFileSync(0, "utf8")).Dir)')
    src="$src/cmd/pulumi-resource-kubernetes"
    mkdir "$tmp/main"
    cp "$provider_module/go.mod" "$provider_module/go.sum" "$src/main.go" "$tmp/main/"
    "$node" -e '
      const fs = require("node:fs");
      const [src, out, version] = process.argv.slice(1);
      const read = (name) => JSON.parse(fs.readFileSync(`${src}/${name}.json`, "utf8"));
      fs.writeFileSync(`${out}/schema-embed.json`, JSON.stringify({ ...read("schema"), version }));
      fs.writeFileSync(`${out}/terraform-mapping-embed.json`, JSON.stringify(read("terraform-mapping")));
    ' "$src" "$tmp/main" "$provider_version"
    cd "$tmp/main"
    go build -mod=readonly -trimpath -ldflags "$provider_ldflags" -o "$tmp/bin/pulumi-resource-kubernetes" .
  )
  rm -rf "$bin" && mv "$tmp/bin" "$bin" && rm -rf "$tmp"
  trap - EXIT
  log "built pulumi-resource-kubernetes in $((SECONDS - started)) s into $bin"
  echo "$bin"
}

port() {
  local name=$1 default=$2 value=${!1:-$2}
  [[ $value =~ ^[0-9]+$ ]] && ((value >= 1024 && value <= 65534)) ||
    die "$name is '$value'; expected a port number from 1024 to 65534 (default $default)"
  echo "$value"
}

# Stops the processes whose PID files are in $1, each only if it is still the binary we started there
# (a PID can be reused once its process has gone).
stop_pids() {
  local dir=$1 name pid
  for name in kube-apiserver etcd; do
    [ -f "$dir/$name.pid" ] || continue
    pid=$(cat "$dir/$name.pid")
    if [ -n "$pid" ] && [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$(cat "$dir/bin")/$name" ]; then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$dir/$name.pid"
  done
}

pki() {
  local dir=$1 port=$2
  (
    cd "$dir"
    openssl_quiet() { openssl "$@" 2>/dev/null; }
    openssl_quiet req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
      -subj "/CN=search-backbone-test-ca" -keyout ca.key -out ca.crt
    openssl_quiet req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=kube-apiserver" \
      -keyout serving.key -out serving.csr
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth\n' >serving.ext
    openssl_quiet x509 -req -in serving.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile serving.ext -out serving.crt
    # The admin credential: a client certificate in system:masters (RBAC's cluster-admin group).
    openssl_quiet req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/O=system:masters/CN=admin" \
      -keyout admin.key -out admin.csr
    printf 'extendedKeyUsage=clientAuth\n' >admin.ext
    openssl_quiet x509 -req -in admin.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile admin.ext -out admin.crt
    openssl_quiet genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out sa.key
    openssl_quiet pkey -in sa.key -pubout -out sa.pub
    chmod 600 ./*.key
    cat >kubeconfig <<EOF
apiVersion: v1
kind: Config
clusters:
  - name: test
    cluster: { server: "https://127.0.0.1:$port", certificate-authority: "$dir/ca.crt" }
users:
  - name: admin
    user: { client-certificate: "$dir/admin.crt", client-key: "$dir/admin.key" }
contexts:
  - name: test
    context: { cluster: test, user: admin }
current-context: test
EOF
  ) || die "openssl could not make the test PKI in $dir"
}

start() {
  local dir=${1:-}
  [ -n "$dir" ] || die "start needs a folder: scripts/kube.sh start <dir>"
  command -v openssl >/dev/null || die "openssl is needed for the test PKI"
  local api_port etcd_port peer_port bin
  api_port=$(port KUBE_APISERVER_PORT 6443)
  etcd_port=$(port KUBE_ETCD_PORT 2379)
  peer_port=$((etcd_port + 1))
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  [ -z "$(ls -A "$dir")" ] || die "$dir is not empty; start needs a fresh folder"
  bin=$(build)
  echo "$bin" >"$dir/bin"
  local started=$SECONDS
  # Nothing half-started is left running: any failure from here stops what was started.
  # shellcheck disable=SC2064 # expand now: the folder is this one
  trap "stop_pids '$dir'" EXIT
  pki "$dir" "$api_port"
  "$bin/etcd" --name test --data-dir "$dir/etcd" --log-level error --unsafe-no-fsync \
    --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
    --listen-peer-urls "http://127.0.0.1:$peer_port" --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
    --initial-cluster "test=http://127.0.0.1:$peer_port" >"$dir/etcd.log" 2>&1 &
  echo $! >"$dir/etcd.pid"
  # PodSecurity and ValidatingAdmissionPolicy are on by default; naming them keeps them on whatever the
  # defaults become. Privileged containers are allowed cluster-wide, as on ACK, so that PodSecurity (not
  # this flag) is what refuses them in the stack's namespaces. No nodes: the endpoint reconciler is off.
  "$bin/kube-apiserver" --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$api_port" \
    --etcd-servers "http://127.0.0.1:$etcd_port" \
    --tls-cert-file "$dir/serving.crt" --tls-private-key-file "$dir/serving.key" --client-ca-file "$dir/ca.crt" \
    --service-account-issuer https://kubernetes.default.svc --service-account-key-file "$dir/sa.pub" \
    --service-account-signing-key-file "$dir/sa.key" --service-cluster-ip-range 10.96.0.0/16 \
    --authorization-mode RBAC --enable-admission-plugins PodSecurity,ValidatingAdmissionPolicy \
    --allow-privileged=true --endpoint-reconciler-type none --profiling=false \
    >"$dir/apiserver.log" 2>&1 &
  echo $! >"$dir/kube-apiserver.pid"
  local ready=""
  for _ in $(seq 120); do
    if "$bin/kubectl" --kubeconfig "$dir/kubeconfig" get --raw /readyz >/dev/null 2>&1; then ready=yes; break; fi
    kill -0 "$(cat "$dir/etcd.pid")" 2>/dev/null || { tail -n 20 "$dir/etcd.log" >&2; die "etcd exited"; }
    kill -0 "$(cat "$dir/kube-apiserver.pid")" 2>/dev/null || { tail -n 20 "$dir/apiserver.log" >&2; die "kube-apiserver exited"; }
    sleep 0.5
  done
  [ -n "$ready" ] || { tail -n 20 "$dir/apiserver.log" >&2; die "kube-apiserver not ready after 60 s"; }
  trap - EXIT
  log "kube-apiserver $k8s_version ready on https://127.0.0.1:$api_port in $((SECONDS - started)) s"
  echo "$dir/kubeconfig"
}

case "$mode" in
  build) build ;;
  provider) provider ;;
  start) start "${2:-}" ;;
  stop)
    [ -n "${2:-}" ] || die "stop needs the folder given to start"
    [ -d "$2" ] || exit 0
    # Only a folder that start made (it holds the record of the binaries) is removed.
    [ -f "$2/bin" ] || die "$2 was not made by scripts/kube.sh start; nothing stopped"
    stop_pids "$2"
    rm -rf "$2"
    ;;
  *) die "usage: scripts/kube.sh build | provider | start <dir> | stop <dir>" ;;
esac
