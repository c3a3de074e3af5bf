#!/usr/bin/env bash
# Brings the production profile up (three brokers over SASL_SSL, HTTPS issuer, Envoy TLS), runs
# the production suite against it, and always brings it down. Ports: the STACK_*_PORT
# variables, as for the quick stack (production.sh lists the extra ones of nodes 2 and 3).
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
export PATH="$root/.tools/node/bin:$root/node_modules/.bin:$PATH"
export STACK_PROFILE=production
stack_dir="${STACK_DIR:-$root/.stack}"
trap 'deploy/stack/stack.sh down >/dev/null 2>&1 || true' EXIT
deploy/stack/stack.sh down >/dev/null 2>&1 || true
deploy/stack/stack.sh up || exit 1
# The tests' own HTTPS calls (tokens from the issuer) trust the stack CA; the Tollgate they
# start themselves gets no such variable and must trust through its configuration.
NODE_EXTRA_CA_CERTS="$stack_dir/tls/ca.pem" STACK_ENV="$stack_dir/env" \
  mocha --timeout 60000 ${MOCHA_ARGS:-} 'test/production/**/*.test.ts'
