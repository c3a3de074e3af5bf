#!/usr/bin/env bash
# Builds the pinned Helm with `go install` into .tools/bin/helm. The Go module and
# build caches live under .cache/go, so the repo (not the user's home) owns them
# and a warm CI machine rebuilds nothing. Idempotent: a fast no-op when
# .tools/bin/helm already reports the pinned version.
set -euo pipefail
HELM_VERSION="${HELM_VERSION:-v3.22.0}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
bin="$root/.tools/bin/helm"

fail() { echo "install-helm: $*" >&2; exit 1; }

installed_version() {
  [ -x "$bin" ] || return 0
  "$bin" version --template '{{.Version}}' 2>/dev/null || true
}

if [ "$(installed_version)" = "$HELM_VERSION" ]; then
  exit 0
fi

command -v go >/dev/null || fail "go is missing (Helm $HELM_VERSION is built with go install)"
echo "==> building Helm $HELM_VERSION with go install (first time: a few minutes)"
mkdir -p "$root/.tools/bin" "$root/.cache/go"
log="$root/.cache/go/helm-install.log"
# CGO off: a static binary that does not depend on the machine's libc.
if ! GOBIN="$root/.tools/bin" GOMODCACHE="$root/.cache/go/mod" GOCACHE="$root/.cache/go/build" \
  GOFLAGS="-buildvcs=false -modcacherw" CGO_ENABLED=0 \
  go install -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" \
  "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >"$log" 2>&1; then
  fail "go install helm.sh/helm/v3/cmd/helm@$HELM_VERSION failed ($(tail -n1 "$log"); full log: ${log#"$root"/})"
fi

got="$(installed_version)"
[ "$got" = "$HELM_VERSION" ] || fail "built Helm reports version '${got:-unknown}', expected $HELM_VERSION"
echo "helm version: $got"
