# Sourced by the Keycloak scripts: prints the JAVA_HOME of a JDK 21+ (Keycloak 26 needs it).
keycloak_java_home() {
  local candidate
  for candidate in "${KEYCLOAK_JAVA_HOME:-}" /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/java-21-openjdk-amd64; do
    if [ -n "$candidate" ] && [ -x "$candidate/bin/java" ]; then
      echo "$candidate"
      return 0
    fi
  done
  local java_bin
  java_bin="$(command -v java || true)"
  if [ -n "$java_bin" ]; then
    local major
    major="$("$java_bin" -XshowSettings:properties -version 2>&1 | sed -n 's/.*java.specification.version = \([0-9]*\).*/\1/p')"
    if [ -n "$major" ] && [ "$major" -ge 21 ]; then
      dirname "$(dirname "$(readlink -f "$java_bin")")"
      return 0
    fi
  fi
  echo "keycloak: needs a JDK 21+ (none at /usr/lib/jvm/temurin-25-jdk-amd64; apt-get install openjdk-21-jdk-headless, or set KEYCLOAK_JAVA_HOME)" >&2
  return 1
}
