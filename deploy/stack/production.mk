# The production-shaped stack (issue 13): deploy/stack/production.sh, test/production/.

.PHONY: stack-up-production
stack-up-production: deps ## the production profile: 3 KRaft brokers over SASL_SSL, HTTPS issuer, Envoy TLS (STACK_PROFILE=production stack-up)
	@STACK_PROFILE=production deploy/stack/stack.sh up

.PHONY: test-production
test-production: deps ## the production suite: broker failover under load, bad broker certificates, certificate-bound tokens
	@deploy/stack/run-production.sh
