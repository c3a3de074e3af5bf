#!/usr/bin/env bash
# Installs the Karapace schema registry (Aiven's, upstream source) into .tools/karapace-venv with
# the installer shipped next to its source in the shared peers folder: a venv of PyPI packages,
# Karapace's own source on the path. Idempotent (the installer skips what is done).
#   KARAPACE_PEER_DIR   folder with install.sh, run-registry.sh and the source tarball
#                       (default: ../shared/peers/karapace beside the checkout, else /work/shared/...)
# Leaves .tools/karapace-venv/run-registry.sh (started by deploy/stack/registry.sh) and run-rest.sh.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
venv="$root/.tools/karapace-venv"

fail() { echo "make deps-registry: $*" >&2; exit 1; }

peer="${KARAPACE_PEER_DIR:-}"
if [ -z "$peer" ]; then
  for candidate in "$root/../shared/peers/karapace" /work/shared/peers/karapace; do
    if [ -x "$candidate/install.sh" ]; then peer="$candidate"; break; fi
  done
fi
[ -n "$peer" ] && [ -x "$peer/install.sh" ] \
  || fail "Karapace installer not found (set KARAPACE_PEER_DIR to the folder holding install.sh)"

stamp="$venv/.tollgate-installed"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$(sha256sum "$peer/karapace-src.tar.gz" | cut -c1-64)" ] \
  && [ -x "$venv/run-rest.sh" ]; then
  exit 0
fi
echo "==> installing the Karapace schema registry into .tools/karapace-venv (about a minute)"
mkdir -p "$root/.tools"
"$peer/install.sh" "$venv" >"$root/.tools/karapace-install.log" 2>&1 \
  || { tail -n 20 "$root/.tools/karapace-install.log" >&2; fail "Karapace install failed (log: .tools/karapace-install.log)"; }
# The launcher goes with the install, so the stack runs it from .tools like every other tool.
# run-rest.sh: Karapace's REST proxy, which test/integration/karapace-reference.test.ts compares with.
cp "$peer/run-registry.sh" "$peer/run-rest.sh" "$venv/"
sha256sum "$peer/karapace-src.tar.gz" | cut -c1-64 >"$stamp"
