.PHONY: keycloak-deps
keycloak-deps: ## install Keycloak (Maven Central) into .tools/keycloak and build it once; needs a JDK 21+
	@deploy/stack/install-keycloak.sh

.PHONY: test-keycloak
test-keycloak: deps keycloak-deps ## the Keycloak suite: one real Keycloak and a stack for it (up and down itself)
	@deploy/stack/run-keycloak.sh
