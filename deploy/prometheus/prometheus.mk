# Prometheus alert rules: generated from the chart, checked with promtool.
PROMTOOL_INSTALL := $(ROOT)/deploy/tools/install-promtool.sh
# Always the repo's own promtool (unpacked from Debian's package), never one on PATH.
PROMTOOL := $(ROOT)/.tools/bin/promtool
ALERTS := $(ROOT)/deploy/prometheus/alerts.yaml
ALERTS_RENDER := $(ROOT)/.cache/chart/alerts-render.yaml

.PHONY: prometheus-deps
prometheus-deps: ## install promtool into .tools/bin (unpacked from Debian's prometheus package)
	@$(PROMTOOL_INSTALL)

# The rule file is the chart's PrometheusRule spec with default values, so the two
# can never say different things.
$(ALERTS_RENDER): $(wildcard $(ROOT)/charts/tollgate/templates/*) $(ROOT)/charts/tollgate/values.yaml | helm-deps
	@mkdir -p $(dir $@)
	@$(HELM) template tollgate $(ROOT)/charts/tollgate $(HELM_KUBE) \
	  --set prometheusRule.enabled=true --show-only templates/prometheusrule.yaml >$@

.PHONY: prometheus-alerts
prometheus-alerts: $(ALERTS_RENDER) ## regenerate deploy/prometheus/alerts.yaml from the chart's alert template
	@$(NODE) $(ROOT)/deploy/tools/manifest-part.ts rule-groups $(ALERTS_RENDER) \
	  $(ROOT)/deploy/prometheus/alerts.header.yaml >$(ALERTS)
	@echo "wrote deploy/prometheus/alerts.yaml"

.PHONY: prometheus-check
prometheus-check: prometheus-deps $(ALERTS_RENDER) ## promtool check + unit-test the alert rules; fail if alerts.yaml is stale
	@$(NODE) $(ROOT)/deploy/tools/manifest-part.ts rule-groups $(ALERTS_RENDER) \
	  $(ROOT)/deploy/prometheus/alerts.header.yaml | diff -u $(ALERTS) - >/dev/null \
	  || { echo "deploy/prometheus/alerts.yaml is stale: run make prometheus-alerts" >&2; exit 1; }
	@$(PROMTOOL) check rules $(ALERTS)
	@cd $(ROOT)/deploy/prometheus && $(PROMTOOL) test rules alerts.test.yaml
