# Tollgate — `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help
ROOT := $(abspath .)
export PATH := $(ROOT)/.tools/node/bin:$(ROOT)/node_modules/.bin:$(PATH)
NODE := $(ROOT)/.tools/node/bin/node

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2}'

.PHONY: deps
deps: ## install everything (Node 24, npm packages, Kafka jars, Envoy, Karapace registry) into the repo; idempotent
	@deploy/stack/install-node.sh
	@deploy/stack/install-npm.sh
	@deploy/stack/install-kafka.sh
	@deploy/stack/install-envoy.sh
	@deploy/stack/install-registry.sh

.PHONY: typecheck
typecheck: deps ## type-check with tsc (no emit: Node runs the .ts directly)
	tsc -p tsconfig.json

.PHONY: lint
lint: deps ## biome lint + format check, and tsc
	biome check src test bin bench
	tsc -p tsconfig.json

.PHONY: format
format: deps ## apply biome's formatting and safe fixes
	biome check --write src test bin bench

.PHONY: test-unit
test-unit: deps ## unit tests (pure modules, milliseconds each), the benchmark harness's included
	mocha 'src/**/*.test.ts' 'bench/**/*.test.ts'

.PHONY: check
check: lint test-unit ## the fast checks (no stack): lint, types, unit tests

.PHONY: stack-up
stack-up: deps ## start issuer, Kafka, Tollgate and Envoy on 127.0.0.1; writes .stack/env
	@deploy/stack/stack.sh up

.PHONY: stack-down
stack-down: ## stop what stack-up started (by pid)
	@deploy/stack/stack.sh down

.PHONY: stack-status
stack-status: ## one line per stack part
	@deploy/stack/stack.sh status

.PHONY: dev
dev: deps ## the local stack in the foreground: start, print how to use it, stream logs, stop on Ctrl-C
	@deploy/stack/dev.sh

.PHONY: test-integration
test-integration: deps prometheus-deps ## integration tests on the real stack (brings it up and down itself)
	@deploy/stack/run-integration.sh

.PHONY: test
test: lint test-unit test-integration test-keycloak test-production chart-test ## everything CI runs: lint, unit, integration (dev issuer, Keycloak, production profile) and chart tests

# Each area keeps its own targets beside its files.
include $(sort $(wildcard deploy/*/*.mk charts/*.mk))
