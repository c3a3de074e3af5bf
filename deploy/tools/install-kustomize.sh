#!/usr/bin/env bash
# Builds the pinned kustomize with `go install` into .tools/bin/kustomize, so
# `make kustomize-check` does not depend on a kubectl that happens to be on PATH.
# Module and build caches live under .cache/go, like Helm's. Idempotent.
set -euo pipefail
KUSTOMIZE_VERSION="${KUSTOMIZE_VERSION:-v5.7.1}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
bin="$root/.tools/bin/kustomize"

fail() { echo "install-kustomize: $*" >&2; exit 1; }

installed_version() {
  [ -x "$bin" ] || return 0
  "$bin" version 2>/dev/null || true
}

[ "$(installed_version)" = "$KUSTOMIZE_VERSION" ] && exit 0

command -v go >/dev/null || fail "go is missing (kustomize $KUSTOMIZE_VERSION is built with go install)"
echo "==> building kustomize $KUSTOMIZE_VERSION with go install (first time: a few minutes)"
mkdir -p "$root/.tools/bin" "$root/.cache/go"
log="$root/.cache/go/kustomize-install.log"
if ! GOBIN="$root/.tools/bin" GOMODCACHE="$root/.cache/go/mod" GOCACHE="$root/.cache/go/build" \
  GOFLAGS="-buildvcs=false -modcacherw" CGO_ENABLED=0 \
  go install -ldflags "-s -w" "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION" >"$log" 2>&1; then
  fail "go install sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION failed ($(tail -n1 "$log"); full log: ${log#"$root"/})"
fi
got="$(installed_version)"
[ "$got" = "$KUSTOMIZE_VERSION" ] || fail "built kustomize reports version '${got:-unknown}', expected $KUSTOMIZE_VERSION"
echo "kustomize version: $got"
