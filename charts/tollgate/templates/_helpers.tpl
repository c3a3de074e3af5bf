{{/* Names and labels, as every chart spells them. */}}
{{- define "tollgate.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "tollgate.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "tollgate.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tollgate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "tollgate.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "tollgate.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: tollgate
{{- end }}

{{- define "tollgate.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "tollgate.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* "repo:tag" or "repo@digest". Call with (dict "image" .Values.image "default" .Chart.AppVersion). */}}
{{- define "tollgate.image" -}}
{{- if .image.digest }}
{{- printf "%s@%s" .image.repository .image.digest }}
{{- else }}
{{- printf "%s:%s" .image.repository (default .default .image.tag) }}
{{- end }}
{{- end }}

{{/* The port of a host:port listen address (the text after the last colon). */}}
{{- define "tollgate.port" -}}
{{- splitList ":" . | last }}
{{- end }}

{{/* Paths where the chart mounts Secrets when their file paths are left empty. */}}
{{- define "tollgate.kafkaCaPath" -}}
{{- printf "/etc/tollgate/kafka-ca/%s" .Values.kafkaCaSecret.key }}
{{- end }}
{{- define "tollgate.kafkaAccountPath" -}}
{{- printf "/etc/tollgate/kafka-account/%s" .Values.kafkaServiceAccountSecret.key }}
{{- end }}

{{/*
The configuration file: .Values.config as given, with the file paths of mounted
Secrets filled in and empty optional values left out (Tollgate treats a present
key as set: an empty serviceAccount would ask for an oauthbearer identity).
*/}}
{{- define "tollgate.configFile" -}}
{{- $cfg := deepCopy .Values.config }}
{{- $kafka := $cfg.kafka }}
{{- if and .Values.kafkaCaSecret.name (not $kafka.caFile) }}
{{- $_ := set $kafka "caFile" (include "tollgate.kafkaCaPath" .) }}
{{- end }}
{{- if not $kafka.caFile }}
{{- $_ := unset $kafka "caFile" }}
{{- end }}
{{- $account := $kafka.serviceAccount | default dict }}
{{- if and .Values.kafkaServiceAccountSecret.name $account }}
{{- if eq (default "oauthbearer" $account.mechanism) "oauthbearer" }}
{{- $_ := set $account "clientSecretFile" (default (include "tollgate.kafkaAccountPath" .) $account.clientSecretFile) }}
{{- else }}
{{- $_ := set $account "passwordFile" (default (include "tollgate.kafkaAccountPath" .) $account.passwordFile) }}
{{- end }}
{{- end }}
{{- if and .Values.schemaRegistrySecret.name (not $cfg.schemaRegistry.passwordFile) }}
{{- $_ := set $cfg.schemaRegistry "passwordFile" (printf "/etc/tollgate/schema-registry/%s" .Values.schemaRegistrySecret.key) }}
{{- end }}
{{- if $account }}
{{- $_ := set $kafka "serviceAccount" $account }}
{{- else }}
{{- $_ := unset $kafka "serviceAccount" }}
{{- end }}
{{- if and .Values.envoy.enabled (not $cfg.shutdown.envoyAdminUrl) }}
{{- $_ := set $cfg.shutdown "envoyAdminUrl" (printf "http://127.0.0.1:%v" .Values.envoy.adminPort) }}
{{- end }}
{{- if not $cfg.shutdown.envoyAdminUrl }}
{{- $_ := unset $cfg.shutdown "envoyAdminUrl" }}
{{- end }}
{{- toYaml $cfg }}
{{- end }}

{{/*
NODE_OPTIONS sizing V8's old space from a container's memory limit (README, "Memory"): 60 %
of it, leaving the rest for buffers (request bodies, Kafka batches live outside the heap), code
and Node itself. No limit, or a NODE_OPTIONS of your own in extraEnv: no flag from here.
Units: Ki, Mi, Gi, or plain bytes. Takes (dict "resources" ... "extraEnv" ...).
*/}}
{{- define "tollgate.heapEnv" -}}
{{- $own := false }}
{{- range .extraEnv }}{{ if eq .name "NODE_OPTIONS" }}{{ $own = true }}{{ end }}{{ end }}
{{- $limit := dig "limits" "memory" "" (.resources | default dict) | toString }}
{{- if $own }}{{ $limit = "" }}{{ end }}
{{- $mib := 0 }}
{{- if hasSuffix "Gi" $limit }}{{ $mib = mul (trimSuffix "Gi" $limit | int) 1024 }}
{{- else if hasSuffix "Mi" $limit }}{{ $mib = trimSuffix "Mi" $limit | int }}
{{- else if hasSuffix "Ki" $limit }}{{ $mib = div (trimSuffix "Ki" $limit | int) 1024 }}
{{- else if regexMatch "^[0-9]+$" $limit }}{{ $mib = div ($limit | int64) 1048576 }}
{{- end }}
{{- if gt (int $mib) 0 }}
- name: NODE_OPTIONS
  value: "--max-old-space-size={{ div (mul $mib 60) 100 }}"
{{- end }}
{{- end }}

{{/* The ACL ConfigMap's name and the key the file sits under. */}}
{{- define "tollgate.aclConfigMap" -}}
{{- default (printf "%s-acl" (include "tollgate.fullname" .)) .Values.aclFile.existingConfigMap }}
{{- end }}
{{- define "tollgate.aclKey" -}}
{{- if .Values.aclFile.existingConfigMap }}{{ .Values.aclFile.key }}{{ else }}acl.yaml{{ end }}
{{- end }}

{{/* Port clients reach: Envoy's listener, or the REST port itself without Envoy. */}}
{{- define "tollgate.clientPort" -}}
{{- if .Values.envoy.enabled }}{{ .Values.envoy.listenPort }}{{ else }}{{ include "tollgate.port" .Values.config.rest.listen }}{{ end }}
{{- end }}

{{/*
Rules that values.schema.json cannot express across keys. Each message names the
value to change.
*/}}
{{- define "tollgate.validate" -}}
{{- $restHost := .Values.config.rest.listen | trimSuffix (printf ":%s" (include "tollgate.port" .Values.config.rest.listen)) }}
{{- if and (not .Values.envoy.enabled) (or (eq $restHost "127.0.0.1") (eq $restHost "localhost") (eq $restHost "[::1]")) }}
{{- fail "config.rest.listen: with envoy.enabled=false the REST process must listen on a pod address (e.g. 0.0.0.0:8082) so the mesh sidecar can reach it" }}
{{- end }}
{{- if and .Values.envoy.enabled (not (or (eq $restHost "127.0.0.1") (eq $restHost "localhost") (eq $restHost "[::1]"))) }}
{{- fail "config.rest.listen: with the Envoy sidecar the REST process must listen on loopback (e.g. 127.0.0.1:8082); anything else lets callers skip ext_authz" }}
{{- end }}
{{- if and (not .Values.config.authorization) (not .Values.config.kafka.serviceAccount) }}
{{- fail "config.kafka.serviceAccount: required when config.authorization is false (the shared Kafka identity)" }}
{{- end }}
{{- if and .Values.kafkaServiceAccountSecret.name (not .Values.config.kafka.serviceAccount) }}
{{- fail "kafkaServiceAccountSecret.name: set config.kafka.serviceAccount too (the Secret only supplies its secret)" }}
{{- end }}
{{- if and .Values.istio.authorizationPolicy.enabled .Values.envoy.enabled }}
{{- fail "istio.authorizationPolicy.enabled: the mesh runs ext_authz itself; set envoy.enabled=false" }}
{{- end }}
{{- $ports := list (include "tollgate.port" .Values.config.authz.grpcListen) (include "tollgate.port" .Values.config.authz.httpListen) (include "tollgate.port" .Values.config.metrics.listen) (include "tollgate.port" .Values.config.rest.listen) }}
{{- if .Values.envoy.enabled }}
{{- $ports = concat $ports (list (toString .Values.envoy.listenPort) (toString .Values.envoy.adminPort) (toString .Values.envoy.statsPort)) }}
{{- end }}
{{- if eq .Values.layout "split" }}
{{- $ports = append $ports (toString .Values.split.restMetricsPort) }}
{{- end }}
{{- if ne (len $ports) (len (uniq $ports)) }}
{{- fail (printf "ports: every listener in the pod needs its own port, got %s (config.*Listen, envoy.*Port, split.restMetricsPort)" (join ", " $ports)) }}
{{- end }}
{{- end }}
