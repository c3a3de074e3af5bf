#!/usr/bin/env bash
# Brings the stack up, runs the integration tests against it, and always brings it down.
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
export PATH="$root/.tools/node/bin:$root/node_modules/.bin:$PATH"
trap 'deploy/stack/stack.sh down >/dev/null 2>&1 || true' EXIT
deploy/stack/stack.sh down >/dev/null 2>&1 || true
deploy/stack/stack.sh up || exit 1
mocha --timeout 60000 ${MOCHA_ARGS:-} 'test/integration/**/*.test.ts'
