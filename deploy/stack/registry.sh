# The local stack's schema registry: Karapace's, installed into .tools/karapace-venv by
# deploy/stack/install-registry.sh. Sourced by stack.sh (uses its helpers: start_bg, wait_for,
# require_free, say, die). It talks to Kafka over the SASL PLAIN admin listener as the super
# user, keeps its schemas in the _schemas topic, and is ready once it says it is the primary
# (before that it refuses writes).

REGISTRY_PORT="${STACK_REGISTRY_PORT:-8081}"
REGISTRY_URL="http://127.0.0.1:$REGISTRY_PORT"

registry_is_primary() {
  curl -fsS "$REGISTRY_URL/_health" | grep -q '"schema_registry_is_primary": *true' \
    && curl -fsS "$REGISTRY_URL/subjects" >/dev/null
}

up_registry() {
  if pid_alive registry; then say "registry already running"; return; fi
  local venv="$TOOLS/karapace-venv"
  [ -x "$venv/run-registry.sh" ] || "$ROOT/deploy/stack/install-registry.sh" \
    || die "registry: Karapace is not installed (deploy/stack/install-registry.sh)"
  require_free registry "$REGISTRY_PORT"
  local password
  password="$(sed -n 's/^KAFKA_ADMIN_PASSWORD=//p' "$STACK_DIR/secrets.env")"
  start_bg registry env KARAPACE_VENV="$venv" KAFKA_BOOTSTRAP="127.0.0.1:$KAFKA_ADMIN_PORT" \
    KAFKA_SASL_USERNAME=admin KAFKA_SASL_PASSWORD="$password" REGISTRY_PORT="$REGISTRY_PORT" \
    LOG_LEVEL=WARNING "$venv/run-registry.sh"
  wait_for registry "primary (GET $REGISTRY_URL/_health)" registry_is_primary
  say "registry ready at $REGISTRY_URL (Karapace, primary)"
}
