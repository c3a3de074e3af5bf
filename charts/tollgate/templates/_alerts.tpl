{{/*
Tollgate's alert rules, one source for both the PrometheusRule and
deploy/prometheus/alerts.yaml (`make prometheus-alerts` renders that file from
here with the default values; `make chart-test` fails when it is stale).
Every alert names a runbook section in charts/tollgate/README.md ("Alerts").
Series are grouped by namespace and job, so two releases alert apart.
*/}}
{{- define "tollgate.alertGroups" -}}
{{- $s := .Values.prometheusRule.selector -}}
{{- $t := .Values.prometheusRule.thresholds -}}
{{- $extra := .Values.prometheusRule.additionalLabels -}}
groups:
  - name: tollgate
    rules:
      - alert: TollgateAuthzDown
        # Prometheus cannot scrape a Tollgate process: the pod is gone, crash-looping
        # or wedged. Envoy fails closed, so its clients get 503s meanwhile.
        expr: up{ {{- $s -}} } == 0
        for: 3m
        labels:
          severity: critical
          {{- with $extra }}
          {{- toYaml . | nindent 10 }}
          {{- end }}
        annotations:
          summary: Tollgate {{ "{{ $labels.instance }}" }} cannot be scraped
          description: >-
            The metrics endpoint of {{ "{{ $labels.namespace }}/{{ $labels.pod }}" }} has not answered
            for 3 minutes. Requests through that pod's Envoy are refused with 503.
          runbook: charts/tollgate/README.md#tollgateauthzdown

      - alert: TollgateAuthzNotReady
        # Running but not ready: no JWKS was ever fetched for some issuer, or the
        # ACL file never loaded. The pod is out of the Service meanwhile.
        expr: tollgate_ready{ {{- $s -}}, component="authz"} == 0
        for: 5m
        labels:
          severity: critical
          {{- with $extra }}
          {{- toYaml . | nindent 10 }}
          {{- end }}
        annotations:
          summary: Tollgate authz in {{ "{{ $labels.namespace }}/{{ $labels.pod }}" }} is not ready
          description: >-
            The authz component has reported not ready for 5 minutes: it has not yet fetched
            every issuer's keys or loaded the ACL file.
          runbook: charts/tollgate/README.md#tollgateauthznotready

      - alert: TollgateDenyRateHigh
        # A jump in denials is a broken client credential, an ACL change that went
        # wrong, or someone probing. audit_allow counts too: in audit mode those are
        # the requests enforce would deny.
        expr: |
          (
            sum by (namespace, job) (rate(tollgate_authz_decisions_total{ {{- $s -}}, result=~"deny|audit_allow"}[5m]))
            /
            sum by (namespace, job) (rate(tollgate_authz_decisions_total{ {{- $s -}} }[5m]))
          ) > {{ $t.denyRatio }}
          and
          sum by (namespace, job) (rate(tollgate_authz_decisions_total{ {{- $s -}} }[5m])) > {{ $t.minDecisionsPerSec }}
        for: 10m
        labels:
          severity: warning
          {{- with $extra }}
          {{- toYaml . | nindent 10 }}
          {{- end }}
        annotations:
          summary: Tollgate denies {{ "{{ $value | humanizePercentage }}" }} of requests in {{ "{{ $labels.namespace }}" }}
          description: >-
            More than {{ mulf $t.denyRatio 100 }}% of authorization decisions have been denials for 10 minutes.
            The Tollgate dashboard's "Deny reasons" panel shows which reason code grew.
          runbook: charts/tollgate/README.md#tollgatedenyratehigh

      - alert: TollgateJwksFetchFailing
        # Fetches fail and none succeeds: new signing keys (rotation) cannot be
        # learnt, so tokens signed with them are refused as JWT_KEY_UNKNOWN.
        expr: |
          sum by (namespace, job, issuer) (increase(tollgate_jwks_fetches_total{ {{- $s -}}, result="error"}[30m])) > 0
          unless on (namespace, job, issuer)
          sum by (namespace, job, issuer) (increase(tollgate_jwks_fetches_total{ {{- $s -}}, result="ok"}[30m])) > 0
        for: 5m
        labels:
          severity: warning
          {{- with $extra }}
          {{- toYaml . | nindent 10 }}
          {{- end }}
        annotations:
          summary: Tollgate cannot fetch the JWKS of {{ "{{ $labels.issuer }}" }}
          description: >-
            Every JWKS fetch for issuer {{ "{{ $labels.issuer }}" }} in the last 30 minutes failed.
            Known keys stay in use; a key rotation at the IdP will lock callers out.
          runbook: charts/tollgate/README.md#tollgatejwksfetchfailing

      - alert: TollgateCheckLatencyHigh
        # A Check is normally well under a millisecond (verified tokens are cached).
        # Envoy gives up at envoy.extAuthz.timeoutMs and answers 503.
        expr: |
          histogram_quantile(0.99,
            sum by (namespace, job, le) (rate(tollgate_authz_check_duration_seconds_bucket{ {{- $s -}} }[5m]))
          ) > {{ $t.checkLatencyP99Sec }}
        for: 10m
        labels:
          severity: warning
          {{- with $extra }}
          {{- toYaml . | nindent 10 }}
          {{- end }}
        annotations:
          summary: Tollgate Check p99 is {{ "{{ $value | humanizeDuration }}" }} in {{ "{{ $labels.namespace }}" }}
          description: >-
            The 99th percentile of authorization checks has been above {{ $t.checkLatencyP99Sec }}s for 10 minutes.
          runbook: charts/tollgate/README.md#tollgatechecklatencyhigh

      - alert: TollgateKafkaErrors
        expr: |
          sum by (namespace, job, code) (rate(tollgate_kafka_errors_total{ {{- $s -}} }[5m])) > {{ $t.kafkaErrorsPerSec }}
        for: 10m
        labels:
          severity: warning
          {{- with $extra }}
          {{- toYaml . | nindent 10 }}
          {{- end }}
        annotations:
          summary: Tollgate sees {{ "{{ $value | humanize }}" }} Kafka errors/s ({{ "{{ $labels.code }}" }})
          description: >-
            Kafka requests fail with {{ "{{ $labels.code }}" }} at more than {{ $t.kafkaErrorsPerSec }}/s for 10 minutes.
          runbook: charts/tollgate/README.md#tollgatekafkaerrors

      - alert: TollgateAclReloadFailed
        # The ACL file changed but Tollgate rejected it: the previous rules stay in
        # force, so the change someone made is not live.
        expr: increase(tollgate_acl_reloads_total{ {{- $s -}}, result="error"}[10m]) > 0
        for: 0m
        labels:
          severity: warning
          {{- with $extra }}
          {{- toYaml . | nindent 10 }}
          {{- end }}
        annotations:
          summary: Tollgate rejected a new ACL file in {{ "{{ $labels.namespace }}/{{ $labels.pod }}" }}
          description: >-
            The ACL file failed validation; the previous rules are still in force. The pod log
            line acl_load_failed lists every problem.
          runbook: charts/tollgate/README.md#tollgateaclreloadfailed
{{- end }}
