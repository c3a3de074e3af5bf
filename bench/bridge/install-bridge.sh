#!/usr/bin/env bash
# Resolves the Strimzi Kafka Bridge jars (pom.xml beside this script) from Maven Central into
# .tools/kafka-bridge/libs, with the repo's Maven cache (.cache/m2). Idempotent. Part 4 of the
# benchmarks (bench/parts/rest-data-path.ts) runs the bridge when these jars are present.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
pom="$root/bench/bridge/pom.xml"
libs="$root/.tools/kafka-bridge/libs"
stamp="$root/.tools/kafka-bridge/.pom-stamp"
if [ -d "$libs" ] && [ -f "$stamp" ] && cmp -s "$pom" "$stamp"; then exit 0; fi
command -v java >/dev/null || { echo "bench: java is missing (JDK 17+)" >&2; exit 1; }
command -v mvn >/dev/null || { echo "bench: mvn is missing (apt-get install maven)" >&2; exit 1; }
version="$(sed -n 's|.*<bridge.version>\(.*\)</bridge.version>.*|\1|p' "$pom")"
echo "==> resolving Strimzi Kafka Bridge $version jars from Maven Central"
mkdir -p "$root/.tools/kafka-bridge"
rm -rf "$libs"
if ! mvn -q -B -U -f "$pom" -Dmaven.repo.local="$root/.cache/m2" \
  dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$libs" >"$root/.tools/kafka-bridge-mvn.log" 2>&1; then
  tail -n 15 "$root/.tools/kafka-bridge-mvn.log" >&2
  echo "bench: could not download io.strimzi:kafka-bridge:$version from Maven Central (see .tools/kafka-bridge-mvn.log)" >&2
  exit 1
fi
echo "$version" >"$root/.tools/kafka-bridge/.version"
cp "$pom" "$stamp"
echo "    $(ls "$libs" | wc -l) jars in .tools/kafka-bridge/libs"
