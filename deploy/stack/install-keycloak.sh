#!/usr/bin/env bash
# Installs Keycloak (org.keycloak:keycloak-quarkus-dist from Maven Central) into .tools/keycloak
# and runs its build step once, so later starts skip the ~2.5 min augmentation. Idempotent:
# a stamp records the version and the build options the cached build was made with.
# --cache=local: one node, no JGroups cluster listening on 0.0.0.0:7800 (set at run time too).
# Needs Java 21+: Temurin 25 at /usr/lib/jvm/temurin-25-jdk-amd64 when present, else
# KEYCLOAK_JAVA_HOME, else the default java if it is new enough.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
version="${KEYCLOAK_VERSION:-26.7.3}"
dest="$root/.tools/keycloak"
stamp="$dest/.tollgate-stamp"
# The build options are baked into the build; change them here and the stamp forces a rebuild.
build_opts=(--db=dev-file --health-enabled=true --cache=local)
want="$version ${build_opts[*]}"

. "$root/deploy/stack/keycloak-java.sh"
java_home="$(keycloak_java_home)" || exit 1

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then exit 0; fi
command -v mvn >/dev/null || { echo "make deps: mvn is missing (apt-get install maven)" >&2; exit 1; }
mkdir -p "$root/.tools"
echo "==> resolving Keycloak $version (keycloak-quarkus-dist) from Maven Central"
if ! mvn -q -B -Dmaven.repo.local="$root/.cache/m2" dependency:copy \
  -Dartifact="org.keycloak:keycloak-quarkus-dist:$version:tar.gz" \
  -DoutputDirectory="$root/.tools" >"$root/.tools/keycloak-mvn.log" 2>&1; then
  tail -n 15 "$root/.tools/keycloak-mvn.log" >&2
  echo "install-keycloak: could not download Keycloak $version from Maven Central (see .tools/keycloak-mvn.log)" >&2
  exit 1
fi
rm -rf "$dest" "$root/.tools/keycloak-$version"
tar -xzf "$root/.tools/keycloak-quarkus-dist-$version.tar.gz" -C "$root/.tools"
mv "$root/.tools/keycloak-$version" "$dest"
rm -f "$root/.tools/keycloak-quarkus-dist-$version.tar.gz"
echo "==> building Keycloak once (its augmentation step; minutes on 2 cores, cached in .tools/keycloak)"
if ! JAVA_HOME="$java_home" PATH="$java_home/bin:$PATH" "$dest/bin/kc.sh" build "${build_opts[@]}" \
  >"$root/.tools/keycloak-build.log" 2>&1; then
  tail -n 20 "$root/.tools/keycloak-build.log" >&2
  echo "install-keycloak: kc.sh build failed (see .tools/keycloak-build.log)" >&2
  exit 1
fi
echo "$want" >"$stamp"
echo "    Keycloak $version built in .tools/keycloak"
