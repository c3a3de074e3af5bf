# Benchmarks (issue #6): code in bench/, tools from deploy/tools/install-bench-tools.sh.
# Not part of `make test`. Each run writes bench/results/<UTC timestamp>.json and BENCHMARKS.md.
BENCH_ARGS ?=

.PHONY: bench-deps
bench-deps: deps ## build the benchmark tools (ghz, opa-envoy-plugin, oha) into .tools/bin
	@$(ROOT)/deploy/tools/install-bench-tools.sh

.PHONY: bench
bench: bench-deps ## run every benchmark part, writes bench/results and BENCHMARKS.md (~60 min)
	$(NODE) $(ROOT)/bench/run.ts $(BENCH_ARGS)

.PHONY: bench-quick
bench-quick: bench-deps ## every benchmark part in quick mode (a few minutes each)
	$(NODE) $(ROOT)/bench/run.ts --quick $(BENCH_ARGS)

.PHONY: bench-opa-profile
bench-opa-profile: bench-deps ## profile part 2's Rego policy (opa eval --profile) into bench/opa/profile.md
	$(NODE) $(ROOT)/bench/opa/profile.ts
