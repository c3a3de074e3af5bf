#!/usr/bin/env bash
# Installs promtool into .tools/bin from Debian's `prometheus` package, without
# installing the package: `apt-get download` fetches the .deb and `dpkg-deb -x`
# unpacks it into .tools/prometheus (promtool is a static Go binary, it needs
# nothing else from the package). Tests and make targets call .tools/bin/promtool,
# never a promtool on PATH. Idempotent: a no-op when the pinned version is there.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
# Debian 12's version; the script takes whatever the archive offers when it differs
# and says so, since only one version of a Debian package is served at a time.
PROMETHEUS_DEB_VERSION="${PROMETHEUS_DEB_VERSION:-2.42.0+ds-5+deb12u1}"
dest="$root/.tools/prometheus"
link="$root/.tools/bin/promtool"
stamp="$dest/.deb-version"

fail() { echo "install-promtool: $*" >&2; exit 1; }

[ -x "$link" ] && [ -f "$stamp" ] && exit 0

command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null \
  || fail "apt-get and dpkg-deb are needed to fetch Debian's prometheus package (promtool)"

log="$(mktemp)"
work="$(mktemp -d)"
trap 'rm -rf "$log" "$work"' EXIT

candidate() { apt-cache policy prometheus 2>/dev/null | sed -n 's/^ *Candidate: //p'; }
version="$(candidate)"
if [ -z "$version" ] || [ "$version" = "(none)" ]; then
  # A fresh machine may have no package lists yet; fetching them needs root.
  [ "$(id -u)" = 0 ] || fail "no package lists (run apt-get update as root once), cannot find package prometheus"
  echo "==> apt-get update (no package lists yet)"
  apt-get update >"$log" 2>&1 || fail "apt-get update failed: $(tail -n1 "$log")"
  version="$(candidate)"
  [ -n "$version" ] && [ "$version" != "(none)" ] || fail "Debian's archive offers no package prometheus"
fi
[ "$version" = "$PROMETHEUS_DEB_VERSION" ] \
  || echo "install-promtool: the archive offers prometheus $version (pinned $PROMETHEUS_DEB_VERSION); using it" >&2

echo "==> installing promtool from Debian's prometheus $version into .tools/prometheus"
(cd "$work" && apt-get download "prometheus=$version" >"$log" 2>&1) \
  || fail "apt-get download prometheus=$version failed: $(tail -n1 "$log")"
rm -rf "$dest"
mkdir -p "$dest" "$root/.tools/bin"
dpkg-deb -x "$work"/prometheus_*.deb "$dest" || fail "could not unpack the prometheus package"
[ -x "$dest/usr/bin/promtool" ] || fail "the prometheus package has no usr/bin/promtool"
ln -sfn --relative "$dest/usr/bin/promtool" "$link"
echo "$version" >"$stamp"
"$link" --version 2>&1 | head -n1
