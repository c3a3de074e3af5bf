# The local stack's schema registry: Karapace's, installed into .tools/karapace-venv by
# deploy/stack/install-registry.sh. Sourced by stack.sh (uses its helpers: start_bg, wait_for,
# require_free, say, die). It talks to Kafka over the SASL PLAIN admin listener as the super
# user, keeps its schemas in the _schemas topic, and is ready once it says it is the primary
# (before that it refuses writes). Its API takes the callers' own OIDC bearer tokens.

REGISTRY_PORT="${STACK_REGISTRY_PORT:-8081}"
REGISTRY_URL="http://127.0.0.1:$REGISTRY_PORT"

# /_health and /master_available answer without a token.
registry_is_primary() {
  curl -fsS "$REGISTRY_URL/_health" | grep -q '"schema_registry_is_primary": *true' \
    && curl -fsS "$REGISTRY_URL/master_available" | grep -q true
}

# Registers (idempotently) a tiny schema under a subject of its own, as the admin client.
registry_accepts_writes() {
  local token
  token="$("${TOLLGATE[@]}" dev token admin --env "$STACK_DIR/env" 2>/dev/null)" || return 1
  curl -fsS -X POST -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/vnd.schemaregistry.v1+json' \
    --data '{"schema":"\"string\""}' "$REGISTRY_URL/subjects/_tollgate-stack-probe/versions" >/dev/null 2>&1
}

# Primary is not yet writable: for a few seconds after the election (at start, and again after
# a Kafka restart) a write still answers 50003 "Error while forwarding the request to the
# master". Ready means a real write works.
registry_ready() {
  wait_for registry "primary (GET $REGISTRY_URL/_health)" registry_is_primary
  if [ "$IDP" = dev ]; then
    wait_for registry "accepting writes (a probe schema, as admin)" registry_accepts_writes
  else
    # Other issuers' tokens carry no registry_roles claim: no token may write to probe with.
    sleep 5
  fi
}

up_registry() {
  if pid_alive registry; then say "registry already running"; return; fi
  local venv="$TOOLS/karapace-venv"
  [ -x "$venv/run-registry.sh" ] || "$ROOT/deploy/stack/install-registry.sh" \
    || die "registry: Karapace is not installed (deploy/stack/install-registry.sh)"
  require_free registry "$REGISTRY_PORT"
  local password
  password="$(sed -n 's/^KAFKA_ADMIN_PASSWORD=//p' "$STACK_DIR/secrets.env")"
  # Callers authenticate with their own bearer tokens (Tollgate forwards them), verified
  # against the stack's issuer; the registry_roles claim decides who may read and who may write.
  start_bg registry env KARAPACE_VENV="$venv" KAFKA_BOOTSTRAP="127.0.0.1:$KAFKA_ADMIN_PORT" \
    KAFKA_SASL_USERNAME=admin KAFKA_SASL_PASSWORD="$password" REGISTRY_PORT="$REGISTRY_PORT" \
    KARAPACE_SASL_OAUTHBEARER_AUTHENTICATION_ENABLED=true \
    KARAPACE_SASL_OAUTHBEARER_AUTHORIZATION_ENABLED=true \
    KARAPACE_SASL_OAUTHBEARER_JWKS_ENDPOINT_URL="${JWKS_URL:-$ISSUER_URL/jwks.json}" \
    KARAPACE_SASL_OAUTHBEARER_ALLOW_INSECURE_JWKS=true \
    KARAPACE_SASL_OAUTHBEARER_EXPECTED_ISSUER="$ISSUER_URL" \
    KARAPACE_SASL_OAUTHBEARER_EXPECTED_AUDIENCE="$AUDIENCE" \
    KARAPACE_SASL_OAUTHBEARER_CLIENT_ID=schema-registry \
    KARAPACE_SASL_OAUTHBEARER_ROLES_CLAIM_PATH=registry_roles \
    KARAPACE_SASL_OAUTHBEARER_LEEWAY_SECONDS=5 \
    KARAPACE_SASL_OAUTHBEARER_METHOD_ROLES='{"GET":["schema-reader","schema-writer"],"POST":["schema-writer"],"PUT":["schema-writer"],"DELETE":["schema-writer"]}' \
    LOG_LEVEL=WARNING "$venv/run-registry.sh"
  registry_ready
  say "registry ready at $REGISTRY_URL (Karapace, primary)"
}
