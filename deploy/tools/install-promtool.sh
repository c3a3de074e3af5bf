#!/usr/bin/env bash
# Installs promtool from Debian's `prometheus` package (the only place the
# reachable registries ship it). Idempotent: a no-op when promtool is on PATH.
# apt-get needs root, as CI and the dev machines run; anyone else gets one line
# saying what to install.
set -euo pipefail

fail() { echo "install-promtool: $*" >&2; exit 1; }

command -v promtool >/dev/null && exit 0

command -v apt-get >/dev/null \
  || fail "promtool is missing and there is no apt-get here; install Prometheus' promtool and put it on PATH"
[ "$(id -u)" = 0 ] \
  || fail "promtool is missing; as root run: apt-get update && apt-get install -y --no-install-recommends prometheus"

echo "==> installing promtool (Debian package prometheus)"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
export DEBIAN_FRONTEND=noninteractive
apt-get update >"$log" 2>&1 || fail "apt-get update failed: $(tail -n1 "$log")"
# The package would start a Prometheus server on install where an init system
# runs; policy-rc.d 101 forbids that. Only the promtool binary is wanted.
policy=/usr/sbin/policy-rc.d
added_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && added_policy=1
fi
status=0
apt-get install -y --no-install-recommends prometheus >"$log" 2>&1 || status=$?
[ "$added_policy" = 1 ] && rm -f "$policy"
[ "$status" = 0 ] || fail "apt-get install prometheus failed: $(tail -n1 "$log")"
command -v promtool >/dev/null || fail "package prometheus installed, but promtool is not on PATH"
promtool --version 2>&1 | head -n1
