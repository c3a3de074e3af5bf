#!/usr/bin/env bash
# `make dev`: the whole local stack in the foreground. Ctrl-C stops it.
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
stack_dir="${STACK_DIR:-$root/.stack}"
trap 'echo; deploy/stack/stack.sh down' EXIT
trap 'exit 0' INT TERM
deploy/stack/stack.sh up || exit 1
value() { sed -n "s/^$1=//p" "$stack_dir/env"; }
TOLLGATE_URL=$(value TOLLGATE_URL) ISSUER_URL=$(value ISSUER_URL) TOKEN_URL=$(value TOKEN_URL)
KAFKA_BOOTSTRAP=$(value KAFKA_BOOTSTRAP) ENVOY_ADMIN_URL=$(value ENVOY_ADMIN_URL) METRICS_URL=$(value METRICS_URL)
REGISTRY_URL=$(value REGISTRY_URL)
cat <<MSG

Tollgate is up. Everything runs on 127.0.0.1; $stack_dir/env has the addresses and demo secrets.

  REST through Envoy (the way in):  $TOLLGATE_URL
  OIDC issuer:                      $ISSUER_URL  (token endpoint $TOKEN_URL)
  Kafka (OAUTHBEARER):              $KAFKA_BOOTSTRAP
  Schema registry (Karapace):       $REGISTRY_URL  (bearer tokens; roles from registry_roles)
  Envoy admin:                      $ENVOY_ADMIN_URL
  Tollgate metrics:                 $METRICS_URL/metrics

Try it (demo clients: alice reads+writes orders.*, bob reads orders.*, mallory nothing):

  TOKEN=\$(.tools/node/bin/node bin/tollgate.js dev token alice --env $stack_dir/env)
  curl -s -H "Authorization: Bearer \$TOKEN" $TOLLGATE_URL/topics
  curl -s -H "Authorization: Bearer \$TOKEN" -H 'Content-Type: application/vnd.kafka.json.v2+json' \\
       -d '{"records":[{"key":"k","value":{"id":1}}]}' $TOLLGATE_URL/topics/orders.eu
  TOKEN=\$(.tools/node/bin/node bin/tollgate.js dev token mallory --env $stack_dir/env)
  curl -s -i -H "Authorization: Bearer \$TOKEN" $TOLLGATE_URL/topics/orders.eu   # 403

Streaming logs (Ctrl-C stops the stack):
MSG
tail -n 0 -F "$stack_dir"/logs/*.log &
tail_pid=$!
# The log tail must not outlive the stack (it did, as an orphan, before this trap).
trap 'kill "$tail_pid" 2>/dev/null; echo; deploy/stack/stack.sh down' EXIT
wait "$tail_pid"
