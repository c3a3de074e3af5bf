# Keycloak as a stack part (issue 11). Sourced by stack.sh, which provides start_bg, wait_for,
# pid_alive, require_free, say, die, ROOT, TOOLS, STACK_DIR, PIDS and LOGS.
#
# One Keycloak (org.keycloak:keycloak-quarkus-dist, installed and built once into .tools/keycloak
# by install-keycloak.sh) in production mode on plain HTTP, loopback only, its H2 database under
# $STACK_DIR/keycloak (dropped by stack down). Configured through its admin REST API: realm
# $KEYCLOAK_REALM, one confidential client with a service account per demo client of
# clients.yaml (secrets from .stack/secrets.env), an audience mapper putting $AUDIENCE into
# access (and ID) tokens, and the realm's access-token lifespan.

KEYCLOAK_PORT="${STACK_KEYCLOAK_PORT:-9480}"
KEYCLOAK_MANAGEMENT_PORT="${STACK_KEYCLOAK_MANAGEMENT_PORT:-$((KEYCLOAK_PORT + 1))}"
KEYCLOAK_REALM="${STACK_KEYCLOAK_REALM:-tollgate}"
KEYCLOAK_TOKEN_LIFESPAN_SEC="${STACK_KEYCLOAK_TOKEN_LIFESPAN_SEC:-300}"
KEYCLOAK_URL="http://127.0.0.1:$KEYCLOAK_PORT"
# KC_HOSTNAME below pins this: without it `iss` follows the Host header of each token request.
KEYCLOAK_ISSUER_URL="$KEYCLOAK_URL/realms/$KEYCLOAK_REALM"

up_keycloak() {
  if pid_alive keycloak; then say "keycloak already running"; return; fi
  "$ROOT/deploy/stack/install-keycloak.sh" || die "keycloak: install failed"
  . "$ROOT/deploy/stack/keycloak-java.sh"
  local java_home
  java_home="$(keycloak_java_home)" || die "keycloak: no JDK 21+"
  require_free keycloak "$KEYCLOAK_PORT" "$KEYCLOAK_MANAGEMENT_PORT"
  local file="$STACK_DIR/secrets.env"
  if ! grep -q '^KEYCLOAK_ADMIN_PASSWORD=' "$file"; then
    (umask 077; echo "KEYCLOAK_ADMIN_PASSWORD=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')" >>"$file")
  fi
  local password
  password="$(sed -n 's/^KEYCLOAK_ADMIN_PASSWORD=//p' "$file")"
  mkdir -p "$STACK_DIR/keycloak"
  # Quarkus boots in ~30 s on an idle 2-core machine; give a loaded one far longer.
  local READY_TIMEOUT_SEC="${STACK_KEYCLOAK_READY_TIMEOUT_SEC:-400}"
  start_bg keycloak env JAVA_HOME="$java_home" PATH="$java_home/bin:$PATH" \
    KC_BOOTSTRAP_ADMIN_USERNAME=admin KC_BOOTSTRAP_ADMIN_PASSWORD="$password" \
    KC_HTTP_ENABLED=true KC_HTTP_HOST=127.0.0.1 KC_HTTP_PORT="$KEYCLOAK_PORT" \
    KC_HTTP_MANAGEMENT_PORT="$KEYCLOAK_MANAGEMENT_PORT" KC_HOSTNAME="$KEYCLOAK_URL" KC_CACHE=local \
    KC_DB_URL="jdbc:h2:file:$STACK_DIR/keycloak/h2/keycloakdb;NON_KEYWORDS=VALUE" \
    JAVA_OPTS_KC_HEAP="-Xms128m -Xmx640m" \
    "$TOOLS/keycloak/bin/kc.sh" start --optimized
  wait_for keycloak "ready (health on 127.0.0.1:$KEYCLOAK_MANAGEMENT_PORT)" \
    curl -fsS "http://127.0.0.1:$KEYCLOAK_MANAGEMENT_PORT/health/ready"
  configure_keycloak "$password"
  say "keycloak ready at $KEYCLOAK_URL, issuer $KEYCLOAK_ISSUER_URL (admin console user admin, password in $file)"
}

# curl against the admin API with the admin's token; prints the body, fails on HTTP errors.
keycloak_api() { # method path [json]
  local args=(-fsS -X "$1" -H "Authorization: Bearer $KEYCLOAK_ADMIN_TOKEN")
  [ $# -ge 3 ] && args+=(-H 'Content-Type: application/json' --data-binary "$3")
  curl "${args[@]}" "$KEYCLOAK_URL/admin/realms$2"
}

configure_keycloak() { # admin-password
  KEYCLOAK_ADMIN_TOKEN="$(curl -fsS -d grant_type=password -d client_id=admin-cli -d username=admin \
    --data-urlencode "password=$1" "$KEYCLOAK_URL/realms/master/protocol/openid-connect/token" |
    sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')"
  [ -n "$KEYCLOAK_ADMIN_TOKEN" ] || die "keycloak: no admin token (see $LOGS/keycloak.log)"
  keycloak_api POST "" "{\"realm\":\"$KEYCLOAK_REALM\",\"enabled\":true,\"accessTokenLifespan\":$KEYCLOAK_TOKEN_LIFESPAN_SEC}" \
    || die "keycloak: could not create realm $KEYCLOAK_REALM"
  # The audience mapper: without it Keycloak's tokens name no audience Kafka or Tollgate expects.
  # On the ID token too, as a careless setup would have it: Tollgate must still refuse ID tokens.
  local mapper="{\"name\":\"audience-$AUDIENCE\",\"protocol\":\"openid-connect\",\"protocolMapper\":\"oidc-audience-mapper\",\"config\":{\"included.custom.audience\":\"$AUDIENCE\",\"access.token.claim\":\"true\",\"id.token.claim\":\"true\",\"introspection.token.claim\":\"true\"}}"
  local client var secret
  for client in $(sed -n 's/^  - id: \([a-z0-9_-]*\).*/\1/p' "$ROOT/deploy/stack/clients.yaml"); do
    var="DEV_CLIENT_SECRET_$(echo "$client" | tr 'a-z-' 'A-Z_')"
    secret="$(sed -n "s/^$var=//p" "$STACK_DIR/secrets.env")"
    keycloak_api POST "/$KEYCLOAK_REALM/clients" "{\"clientId\":\"$client\",\"enabled\":true,\"protocol\":\"openid-connect\",\"publicClient\":false,\"clientAuthenticatorType\":\"client-secret\",\"secret\":\"$secret\",\"serviceAccountsEnabled\":true,\"standardFlowEnabled\":false,\"directAccessGrantsEnabled\":false,\"protocolMappers\":[$mapper]}" \
      || die "keycloak: could not create client $client"
  done
}
