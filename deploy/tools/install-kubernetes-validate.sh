#!/usr/bin/env bash
# Installs the pinned kubernetes-validate from PyPI into .tools/k8s-validate-venv.
# The wheel carries the Kubernetes API JSON schemas for every minor release, so
# rendered manifests are checked against the real API types with no network at
# run time. Idempotent: a fast no-op when the venv already holds the pin.
set -euo pipefail
KUBERNETES_VALIDATE_VERSION="${KUBERNETES_VALIDATE_VERSION:-1.37.0}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
venv="$root/.tools/k8s-validate-venv"
link="$root/.tools/bin/kubernetes-validate"

fail() { echo "install-kubernetes-validate: $*" >&2; exit 1; }

installed_version() {
  "$venv/bin/python" -c 'from importlib.metadata import version; print(version("kubernetes-validate"))' 2>/dev/null || true
}

if [ -x "$link" ] && [ "$(installed_version)" = "$KUBERNETES_VALIDATE_VERSION" ]; then
  exit 0
fi

command -v python3 >/dev/null || fail "python3 is missing (needed for kubernetes-validate from PyPI)"
echo "==> installing kubernetes-validate $KUBERNETES_VALIDATE_VERSION into .tools/k8s-validate-venv"
if ! "$venv/bin/python" -c '' >/dev/null 2>&1; then
  rm -rf "$venv"
  python3 -m venv "$venv" >/dev/null 2>&1 \
    || { rm -rf "$venv"; fail "python3 -m venv failed (install the python3-venv package)"; }
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
  "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION" >/dev/null 2>&1 \
  || fail "could not install kubernetes-validate $KUBERNETES_VALIDATE_VERSION from PyPI"
mkdir -p "$root/.tools/bin"
ln -sfn --relative "$venv/bin/kubernetes-validate" "$link"
echo "kubernetes-validate version: $(installed_version)"
