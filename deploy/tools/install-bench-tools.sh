#!/usr/bin/env bash
# Builds the benchmark tools from source with `go install` into .tools/bin, pinned:
#   ghz               the gRPC load generator for part 1 and 2 (Check in isolation, vs OPA)
#   opa-envoy-plugin  OPA with its Envoy ext_authz gRPC plugin, the peer in part 2
#   oha               the HTTP load generator for part 3 (through Envoy)
# Module and build caches stay in the repo (.cache/go), so nothing lands in $HOME.
# Each tool is checked against the Go module proxy first (`go list -m`), so a missing or
# withdrawn version fails with its name rather than deep inside a build. Idempotent: a tool
# whose stamp file names the pinned version is not rebuilt.
set -euo pipefail

GHZ_VERSION="${GHZ_VERSION:-v0.121.0}"
# The plugin's tags carry an -envoy suffix on the OPA version they embed. Not every tag is
# served by the module proxy reachable here; this one is.
OPA_ENVOY_VERSION="${OPA_ENVOY_VERSION:-v1.12.0-envoy}"
OHA_VERSION="${OHA_VERSION:-}"

root="$(cd "$(dirname "$0")/../.." && pwd)"
bin="$root/.tools/bin"
export GOMODCACHE="$root/.cache/go/mod"
export GOCACHE="$root/.cache/go/build"
export GOBIN="$bin"
# Never fetch a newer Go toolchain: build with the one installed, or fail.
export GOTOOLCHAIN=local
export CGO_ENABLED=0

fail() { echo "install-bench-tools: $*" >&2; exit 1; }
command -v go >/dev/null || fail "go is missing (Go >= 1.24 is needed to build ghz and opa-envoy-plugin)"
mkdir -p "$bin" "$GOMODCACHE" "$GOCACHE"

# install NAME MODULE PACKAGE VERSION
install() {
  local name="$1" module="$2" package="$3" version="$4"
  local stamp="$bin/.$name.version"
  if [ -x "$bin/$name" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$version" ]; then
    return 0
  fi
  (cd /tmp && go list -m "$module@$version" >/dev/null 2>&1) \
    || fail "$module@$version is not available from the Go module proxy"
  echo "==> building $name $version (go install $package@$version)"
  (cd /tmp && go install -trimpath -ldflags='-s -w' "$package@$version") \
    || fail "go install $package@$version failed"
  echo "$version" >"$stamp"
}

install ghz github.com/bojand/ghz github.com/bojand/ghz/cmd/ghz "$GHZ_VERSION"
install opa-envoy-plugin github.com/open-policy-agent/opa-envoy-plugin \
  github.com/open-policy-agent/opa-envoy-plugin/cmd/opa-envoy-plugin "$OPA_ENVOY_VERSION"
