#!/usr/bin/env bash
# `make test-keycloak`: ONE Keycloak plus a stack configured for it (STACK_IDP=keycloak), the
# Keycloak suite (test/keycloak/), and always everything down again. Keycloak's build is cached
# in .tools/keycloak by install-keycloak.sh, so only the first run pays for it.
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
export PATH="$root/.tools/node/bin:$root/node_modules/.bin:$PATH"
export STACK_IDP=keycloak
# A short refresh so the suite can assert "a disabled key stops within jwksRefreshSec" in seconds.
export TOLLGATE_JWT_JWKS_REFRESH_SEC="${TOLLGATE_JWT_JWKS_REFRESH_SEC:-10}"
trap 'deploy/stack/stack.sh down >/dev/null 2>&1 || true' EXIT
deploy/stack/stack.sh down >/dev/null 2>&1 || true
deploy/stack/install-keycloak.sh || exit 1
deploy/stack/stack.sh up || exit 1
mocha --timeout 60000 ${MOCHA_ARGS:-} 'test/keycloak/**/*.test.ts'
