# shellcheck shell=bash
# The production-shaped profile of the local stack (STACK_PROFILE=production), sourced by
# stack.sh, whose helpers it uses and whose part functions it replaces:
#   - a private CA generated at every start (deploy/stack/tls.sh; nothing committed);
#   - the dev issuer over HTTPS with that CA;
#   - three KRaft nodes (broker+controller each) with SASL_SSL OAUTHBEARER client listeners,
#     a SASL_SSL PLAIN admin/inter-broker listener and a mutual-TLS controller listener, the
#     brokers' JWKS fetch over HTTPS, RF 3 and min.insync.replicas 2;
#   - Tollgate trusting the issuer through a per-issuer caFile and Kafka through kafka.caFile;
#   - Envoy terminating TLS for clients, asking for (not requiring) a client certificate and
#     passing it to the Check for certificate-bound tokens (RFC 8705).
# Ports: the STACK_*_PORT variables of stack.sh for node 1 and the rest, plus
# STACK_KAFKA{2,3}_{,ADMIN_,CONTROLLER_}PORT for nodes 2 and 3.

TLS_DIR="$STACK_DIR/tls"
KAFKA_NODES=(1 2 3)
KAFKA_PORTS=([1]="$KAFKA_PORT" [2]="${STACK_KAFKA2_PORT:-19092}" [3]="${STACK_KAFKA3_PORT:-29092}")
KAFKA_ADMIN_PORTS=([1]="$KAFKA_ADMIN_PORT" [2]="${STACK_KAFKA2_ADMIN_PORT:-19093}" [3]="${STACK_KAFKA3_ADMIN_PORT:-29093}")
KAFKA_CONTROLLER_PORTS=([1]="$KAFKA_CONTROLLER_PORT" [2]="${STACK_KAFKA2_CONTROLLER_PORT:-19094}" [3]="${STACK_KAFKA3_CONTROLLER_PORT:-29094}")
ISSUER_URL="https://127.0.0.1:$ISSUER_PORT"
# Small heaps: three JVMs share two cores and a few GB with the rest of the stack.
KAFKA_HEAP="${STACK_KAFKA_HEAP:--Xms128m -Xmx384m}"

node_part() { if [ "$1" = 1 ]; then echo kafka; else echo "kafka$1"; fi; }

# Dev CLI commands (seed, probe, tokens) trust the CA through Node's process-wide extra CA
# list; Tollgate itself never gets it (see up_tollgate): it must trust through its config.
dev_cli() { NODE_EXTRA_CA_CERTS="$TLS_DIR/ca.pem" "${TOLLGATE[@]}" "$@"; }

bootstrap_list() { # port array name
  local -n ports=$1
  local out=() n
  for n in "${KAFKA_NODES[@]}"; do out+=("127.0.0.1:${ports[$n]}"); done
  local IFS=,
  echo "${out[*]}"
}

ensure_tls() {
  [ -f "$TLS_DIR/ca.pem" ] && return 0
  "$ROOT/deploy/stack/tls.sh" "$TLS_DIR" || die "tls: certificate generation failed"
  say "generated a private CA and certificates in $TLS_DIR"
}

write_env() {
  {
    echo "STACK_PROFILE=production"
    echo "TOLLGATE_URL=https://127.0.0.1:$ENVOY_PORT"
    echo "ISSUER_URL=$ISSUER_URL"
    echo "TOKEN_URL=$ISSUER_URL/token"
    echo "JWKS_URL=$ISSUER_URL/jwks.json"
    echo "AUDIENCE=$AUDIENCE"
    echo "KAFKA_BOOTSTRAP=$(bootstrap_list KAFKA_PORTS)"
    echo "KAFKA_ADMIN_BOOTSTRAP=$(bootstrap_list KAFKA_ADMIN_PORTS)"
    echo "KAFKA_SUB_CLAIM=$SUB_CLAIM"
    echo "KAFKA_SSL=true"
    echo "TLS_DIR=$TLS_DIR"
    echo "CA_FILE=$TLS_DIR/ca.pem"
    echo "ENVOY_ADMIN_URL=http://127.0.0.1:$ENVOY_ADMIN_PORT"
    echo "AUTHZ_GRPC=127.0.0.1:$AUTHZ_GRPC_PORT"
    echo "AUTHZ_HTTP_URL=http://127.0.0.1:$AUTHZ_HTTP_PORT"
    echo "METRICS_URL=http://127.0.0.1:$METRICS_PORT"
    echo "REST_URL=http://127.0.0.1:$REST_PORT"
    echo "STACK_DIR=$STACK_DIR"
    for client in $(sed -n 's/^  - id: \([a-z0-9_-]*\).*/\1/p' "$ROOT/deploy/stack/clients.yaml"); do
      echo "DEV_CLIENT_ID_$(echo "$client" | tr 'a-z-' 'A-Z_')=$client"
    done
    grep -v '^#' "$STACK_DIR/secrets.env"
  } >"$STACK_DIR/env.tmp"
  chmod 600 "$STACK_DIR/env.tmp"
  mv "$STACK_DIR/env.tmp" "$STACK_DIR/env"
}

up_issuer() {
  if pid_alive issuer; then say "issuer already running"; return; fi
  require_free issuer "$ISSUER_PORT"
  start_bg issuer "${TOLLGATE[@]}" dev issuer --clients "$ROOT/deploy/stack/clients.yaml" \
    --secrets "$STACK_DIR/secrets.env" --port "$ISSUER_PORT" \
    --tls-cert "$TLS_DIR/issuer.pem" --tls-key "$TLS_DIR/issuer.key"
  wait_for issuer "serving JWKS at $ISSUER_URL/jwks.json" curl -fsS --cacert "$TLS_DIR/ca.pem" "$ISSUER_URL/jwks.json"
  say "issuer ready at $ISSUER_URL"
}

render_kafka_node() { # node id
  local n=$1 dir="$STACK_DIR/kafka$1" password voters=() m
  password="$(sed -n 's/^KAFKA_ADMIN_PASSWORD=//p' "$STACK_DIR/secrets.env")"
  for m in "${KAFKA_NODES[@]}"; do voters+=("$m@127.0.0.1:${KAFKA_CONTROLLER_PORTS[$m]}"); done
  mkdir -p "$dir"
  sed -e "s|@NODE_ID@|$n|g" -e "s|@NODE_DIR@|$dir|g" -e "s|@TLS_DIR@|$TLS_DIR|g" \
    -e "s|@QUORUM_VOTERS@|$(IFS=,; echo "${voters[*]}")|g" \
    -e "s|@KAFKA_PORT@|${KAFKA_PORTS[$n]}|g" -e "s|@KAFKA_ADMIN_PORT@|${KAFKA_ADMIN_PORTS[$n]}|g" \
    -e "s|@KAFKA_CONTROLLER_PORT@|${KAFKA_CONTROLLER_PORTS[$n]}|g" \
    -e "s|@ISSUER_URL@|$ISSUER_URL|g" -e "s|@AUDIENCE@|$AUDIENCE|g" -e "s|@SUB_CLAIM@|$SUB_CLAIM|g" \
    -e "s|@KAFKA_MAX_REAUTH_MS@|$KAFKA_MAX_REAUTH_MS|g" -e "s|@ADMIN_PASSWORD@|$password|g" \
    "$ROOT/deploy/stack/kafka/production.properties.in" >"$dir/server.properties"
  chmod 600 "$dir/server.properties"
}

kafka_java_opts() { # node id
  # shellcheck disable=SC2206
  local heap=($KAFKA_HEAP)
  printf '%s\n' "${heap[@]}" -XX:+UseG1GC -XX:TieredStopAtLevel=1 -Xshare:auto -Djava.awt.headless=true \
    "-Dlog4j2.configurationFile=$ROOT/deploy/stack/kafka/log4j2.yaml" \
    "-Dorg.apache.kafka.sasl.oauthbearer.allowed.urls=$ISSUER_URL/jwks.json"
}

start_kafka_node() { # node id; starts it and waits for its client port, formatting storage first if new
  local n=$1 part dir="$STACK_DIR/kafka$1" opts
  part="$(node_part "$n")"
  if pid_alive "$part"; then say "$part already running"; return; fi
  command -v java >/dev/null || die "kafka: java is missing (install a JDK 17+)"
  [ -d "$TOOLS/kafka/libs" ] || die "kafka: jars missing in .tools/kafka/libs (run make deps)"
  require_free "$part" "${KAFKA_PORTS[$n]}" "${KAFKA_ADMIN_PORTS[$n]}" "${KAFKA_CONTROLLER_PORTS[$n]}"
  render_kafka_node "$n"
  mapfile -t opts < <(kafka_java_opts "$n")
  if [ ! -f "$dir/data/meta.properties" ]; then
    [ -f "$STACK_DIR/kafka-cluster-id" ] || head -c 16 /dev/urandom | base64 | tr '+/' '-_' | cut -c1-22 >"$STACK_DIR/kafka-cluster-id"
    # "--cluster-id=": a random id starts with "-" one time in 64, and "-t -x..." parses as a flag.
    java "${opts[@]}" -cp "$TOOLS/kafka/libs/*" kafka.tools.StorageTool format \
      "--cluster-id=$(cat "$STACK_DIR/kafka-cluster-id")" -c "$dir/server.properties" >>"$LOGS/$part.log" 2>&1 \
      || { tail_log "$part"; die "$part: storage format failed"; }
  fi
  # nice: a JVM starting during a rolling restart takes both cores of a small machine for tens
  # of seconds; Tollgate and Envoy (what the tests measure) must not starve meanwhile.
  start_bg "$part" nice -n 10 java "${opts[@]}" -cp "$TOOLS/kafka/libs/*" kafka.Kafka "$dir/server.properties"
}

wait_kafka_node() {
  local n=$1 part
  part="$(node_part "$n")"
  wait_for "$part" "listening on 127.0.0.1:${KAFKA_PORTS[$n]}" port_busy "${KAFKA_PORTS[$n]}"
}

up_kafka() {
  # All three at once: a node cannot finish starting until the quorum has a majority.
  local n
  for n in "${KAFKA_NODES[@]}"; do start_kafka_node "$n"; done
  for n in "${KAFKA_NODES[@]}"; do wait_kafka_node "$n"; done
  write_env
  wait_for kafka "seeding topics (RF 3) and ACLs over the admin listener" \
    dev_cli dev seed --env "$STACK_DIR/env" --file "$ROOT/deploy/stack/seed.yaml" --replication-factor 3
  wait_for kafka "answering metadata over SASL_SSL OAUTHBEARER" dev_cli dev probe --env "$STACK_DIR/env"
  say "kafka ready: 3 nodes at $(bootstrap_list KAFKA_PORTS) (SASL_SSL OAUTHBEARER)"
}

# `stack.sh restart-part kafka2` (rolling restarts): one node, waited for until it listens.
up_kafka2() { start_kafka_node 2; wait_kafka_node 2; }
up_kafka3() { start_kafka_node 3; wait_kafka_node 3; }

render_tollgate_config() {
  sed -e "s|@ISSUER_URL@|$ISSUER_URL|g" -e "s|@AUDIENCE@|$AUDIENCE|g" \
    -e "s|@ROOT@|$ROOT|g" -e "s|@KAFKA_BROKERS@|$(bootstrap_list KAFKA_PORTS)|g" \
    -e "s|@AUTHZ_GRPC_PORT@|$AUTHZ_GRPC_PORT|g" -e "s|@AUTHZ_HTTP_PORT@|$AUTHZ_HTTP_PORT|g" \
    -e "s|@METRICS_PORT@|$METRICS_PORT|g" -e "s|@REST_PORT@|$REST_PORT|g" \
    -e "s|@ENVOY_PORT@|$ENVOY_PORT|g" -e "s|@SUB_CLAIM@|$SUB_CLAIM|g" \
    -e "s|@STACK_DIR@|$STACK_DIR|g" -e "s|@TLS_DIR@|$TLS_DIR|g" \
    -e "s|@CERT_BINDING@|${STACK_CERT_BINDING:-if-present}|g" \
    "$ROOT/deploy/stack/tollgate-production.yaml.in" >"$STACK_DIR/tollgate.yaml"
  [ -f "$STACK_DIR/acl.yaml" ] || cp "$ROOT/deploy/stack/acl.yaml" "$STACK_DIR/acl.yaml"
}

up_tollgate() {
  if pid_alive tollgate; then say "tollgate already running"; return; fi
  require_free tollgate "$AUTHZ_GRPC_PORT" "$AUTHZ_HTTP_PORT" "$METRICS_PORT" "$REST_PORT"
  render_tollgate_config
  # Trust comes from tollgate.yaml only (issuers[].caFile, kafka.caFile): no inherited extra CAs.
  start_bg tollgate env -u NODE_EXTRA_CA_CERTS "${TOLLGATE[@]}" serve --config "$STACK_DIR/tollgate.yaml"
  wait_for tollgate "ready (/readyz on 127.0.0.1:$AUTHZ_HTTP_PORT)" curl -fsS "http://127.0.0.1:$AUTHZ_HTTP_PORT/readyz"
  say "tollgate ready: authz grpc 127.0.0.1:$AUTHZ_GRPC_PORT, rest 127.0.0.1:$REST_PORT"
}

up_envoy() {
  if pid_alive envoy; then say "envoy already running"; return; fi
  [ -x "$TOOLS/bin/envoy" ] || die "envoy: binary missing in .tools/bin (run make deps)"
  require_free envoy "$ENVOY_PORT" "$ENVOY_ADMIN_PORT"
  sed -e "s/port_value: 8080/port_value: $ENVOY_PORT/" -e "s/port_value: 9901/port_value: $ENVOY_ADMIN_PORT/" \
    -e "s/port_value: 9191/port_value: $AUTHZ_GRPC_PORT/" -e "s/port_value: 8082/port_value: $REST_PORT/" \
    "$ROOT/deploy/envoy/envoy.yaml" >"$STACK_DIR/envoy-plain.yaml"
  "$NODE" "$ROOT/deploy/stack/envoy-tls.ts" "$STACK_DIR/envoy-plain.yaml" "$TLS_DIR" >"$STACK_DIR/envoy.yaml" \
    || die "envoy: could not add TLS to the Envoy configuration"
  start_bg envoy "$TOOLS/bin/envoy" -c "$STACK_DIR/envoy.yaml" --log-level warn \
    --base-id "$((ENVOY_ADMIN_PORT % 60000))" --concurrency 2
  wait_for envoy "admin /ready says LIVE" bash -c "curl -fsS http://127.0.0.1:$ENVOY_ADMIN_PORT/ready | grep -q LIVE"
  say "envoy ready at https://127.0.0.1:$ENVOY_PORT (TLS; admin http://127.0.0.1:$ENVOY_ADMIN_PORT)"
}

cmd_up() {
  mkdir -p "$LOGS" "$PIDS"
  [ -x "$NODE" ] || die "Node 24 missing in .tools/node (run make deps)"
  command -v curl >/dev/null || die "curl is missing (apt-get install curl)"
  ensure_secrets
  ensure_tls
  write_env
  local started=$SECONDS
  for part in issuer kafka tollgate envoy; do
    if has_part "$part"; then "up_$part"; fi
  done
  write_env
  say "production profile up in $((SECONDS - started))s; environment in $STACK_DIR/env, logs in $LOGS/"
}

cmd_down() {
  [ -d "$PIDS" ] || { say "nothing to stop"; return 0; }
  for part in envoy tollgate kafka3 kafka2 kafka issuer; do stop_part "$part"; done
  if [ "${STACK_KEEP_DATA:-0}" != 1 ]; then
    rm -rf "$STACK_DIR"/kafka[123] "$STACK_DIR/kafka-cluster-id" "$STACK_DIR/acl.yaml" "$TLS_DIR"
  fi
  return 0
}

cmd_status() {
  for part in issuer kafka kafka2 kafka3 tollgate envoy; do
    if pid_alive "$part"; then echo "$part: running (pid $(cat "$PIDS/$part.pid"))"; else echo "$part: stopped"; fi
  done
}
