#!/usr/bin/env bash
# Resolves the Apache Kafka broker jars (pom.xml beside this script) from Maven Central into
# .tools/kafka/libs, with a Maven cache inside the repo (.cache/m2). Idempotent.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
pom="$root/deploy/stack/kafka/pom.xml"
libs="$root/.tools/kafka/libs"
stamp="$root/.tools/kafka/.pom-stamp"
if [ -d "$libs" ] && [ -f "$stamp" ] && cmp -s "$pom" "$stamp"; then exit 0; fi
command -v java >/dev/null || { echo "make deps: java is missing (Kafka 4 needs a JDK 17+: apt-get install openjdk-17-jdk-headless)" >&2; exit 1; }
command -v mvn >/dev/null || { echo "make deps: mvn is missing (apt-get install maven)" >&2; exit 1; }
version="$(sed -n 's|.*<kafka.version>\(.*\)</kafka.version>.*|\1|p' "$pom")"
echo "==> resolving Apache Kafka $version jars from Maven Central"
rm -rf "$libs"
if ! mvn -q -B -f "$pom" -Dmaven.repo.local="$root/.cache/m2" \
  dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$libs" >"$root/.tools/kafka-mvn.log" 2>&1; then
  tail -n 15 "$root/.tools/kafka-mvn.log" >&2
  echo "make deps: could not download Kafka $version from Maven Central (see .tools/kafka-mvn.log)" >&2
  exit 1
fi
cp "$pom" "$stamp"
echo "    $(ls "$libs" | wc -l) jars in .tools/kafka/libs"
