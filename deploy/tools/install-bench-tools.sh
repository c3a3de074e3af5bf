#!/usr/bin/env bash
# Builds the benchmark tools from source into .tools/bin, pinned (bench/README.md says why each):
#   grpc-load         our open-loop gRPC load generator (bench/loadgen): parts 1 and 2
#   ghz               the common gRPC load generator, the alternative (--loadgen ghz)
#   opa-envoy-plugin  OPA with its Envoy ext_authz gRPC plugin: the peer in part 2
#   oha               HTTP load generator: part 3 (through Envoy); from crates.io with cargo
# Go module and build caches stay in the repo (.cache/go), cargo's build dir in .cache/cargo,
# so nothing lands in $HOME. Each Go module version is checked against the module proxy
# first (`go list -m`), so a missing version fails with its name, not deep inside a build.
# Idempotent: a tool whose stamp file names the pinned version is not rebuilt.
set -euo pipefail

GHZ_VERSION="${GHZ_VERSION:-v0.121.0}"
# The plugin's tags are the OPA version they embed plus -envoy. The module proxy reachable
# here serves only some of them (v1.12.0-envoy is one; v1.13+ answer 403).
OPA_ENVOY_VERSION="${OPA_ENVOY_VERSION:-v1.12.0-envoy}"
OHA_VERSION="${OHA_VERSION:-1.10.0}"

root="$(cd "$(dirname "$0")/../.." && pwd)"
bin="$root/.tools/bin"
export GOMODCACHE="$root/.cache/go/mod"
export GOCACHE="$root/.cache/go/build"
# Never fetch a newer Go toolchain: build with the one installed, or fail.
export GOTOOLCHAIN=local
export CGO_ENABLED=0

fail() { echo "install-bench-tools: $*" >&2; exit 1; }
mkdir -p "$bin" "$GOMODCACHE" "$GOCACHE"

is_current() { [ -x "$bin/$1" ] && [ "$(cat "$bin/.$1.version" 2>/dev/null)" = "$2" ]; }
stamp() { echo "$2" >"$bin/.$1.version"; }

need_go() {
  command -v go >/dev/null || fail "go is missing (Go >= 1.26 builds grpc-load, ghz and opa-envoy-plugin)"
}

# Ours: rebuilt whenever its source changes (the stamp is a hash of the module's files).
loadgen="$root/bench/loadgen"
LOADGEN_VERSION="src-$(cat "$loadgen/go.mod" "$loadgen/go.sum" "$loadgen/main.go" | sha256sum | cut -c1-12)"
if ! is_current grpc-load "$LOADGEN_VERSION"; then
  need_go
  echo "==> building grpc-load (bench/loadgen)"
  (cd "$loadgen" && go build -mod=readonly -trimpath -ldflags='-s -w' -o "$bin/grpc-load" .) \
    || fail "building bench/loadgen failed"
  stamp grpc-load "$LOADGEN_VERSION"
fi

if ! is_current ghz "$GHZ_VERSION"; then
  need_go
  (cd /tmp && go list -m "github.com/bojand/ghz@$GHZ_VERSION" >/dev/null) \
    || fail "github.com/bojand/ghz@$GHZ_VERSION is not available from the Go module proxy"
  echo "==> building ghz $GHZ_VERSION"
  (cd /tmp && GOBIN="$bin" go install -trimpath -ldflags='-s -w' \
    "github.com/bojand/ghz/cmd/ghz@$GHZ_VERSION") || fail "go install ghz@$GHZ_VERSION failed"
  stamp ghz "$GHZ_VERSION"
fi

if ! is_current opa-envoy-plugin "$OPA_ENVOY_VERSION"; then
  need_go
  module=github.com/open-policy-agent/opa-envoy-plugin
  # The checksum database reachable here has no record of the -envoy tags (404), so this one
  # module (not its dependencies) is taken from the proxy without the sumdb check.
  export GONOSUMDB="$module"
  (cd /tmp && go list -m "$module@$OPA_ENVOY_VERSION" >/dev/null) \
    || fail "$module@$OPA_ENVOY_VERSION is not available from the Go module proxy"
  echo "==> building opa-envoy-plugin $OPA_ENVOY_VERSION"
  # Not `go install pkg@version`: that also reads the module's version list for deprecation
  # notices, which the proxy here refuses (403) for this module. A throwaway main module that
  # requires the pinned version builds the same binary from the same go.mod graph.
  work="$root/.cache/go/opa-envoy-plugin-build"
  rm -rf "$work" && mkdir -p "$work"
  printf 'module tollgate.local/bench-tools\n\ngo 1.24\n\nrequire %s %s\n' "$module" "$OPA_ENVOY_VERSION" \
    >"$work/go.mod"
  (cd "$work" && go build -mod=mod -trimpath -ldflags='-s -w' -o "$bin/opa-envoy-plugin" \
    "$module/cmd/opa-envoy-plugin") || fail "building $module@$OPA_ENVOY_VERSION failed"
  stamp opa-envoy-plugin "$OPA_ENVOY_VERSION"
fi

if ! is_current oha "$OHA_VERSION"; then
  command -v cargo >/dev/null || fail "cargo is missing (oha $OHA_VERSION is built from crates.io)"
  echo "==> building oha $OHA_VERSION (cargo install, a few minutes on 2 cores)"
  CARGO_TARGET_DIR="$root/.cache/cargo/target" cargo install --quiet --locked \
    --version "$OHA_VERSION" --root "$root/.cache/cargo/oha" oha \
    || fail "cargo install oha@$OHA_VERSION failed"
  ln -sfn --relative "$root/.cache/cargo/oha/bin/oha" "$bin/oha"
  stamp oha "$OHA_VERSION"
fi
