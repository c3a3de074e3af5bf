{{/*
Pieces of the pod shared by its containers. The Tollgate containers all mount
the config, the ACL file, the Secrets and a writable /tmp, and get the same env.
*/}}
{{- define "tollgate.mounts" }}
- name: config
  mountPath: /etc/tollgate/config
  readOnly: true
- name: acl
  mountPath: {{ dir .Values.config.acl.file }}
  readOnly: true
{{- if .Values.kafkaCaSecret.name }}
- name: kafka-ca
  mountPath: /etc/tollgate/kafka-ca
  readOnly: true
{{- end }}
{{- if .Values.kafkaServiceAccountSecret.name }}
- name: kafka-account
  mountPath: /etc/tollgate/kafka-account
  readOnly: true
{{- end }}
{{- if .Values.schemaRegistrySecret.name }}
- name: schema-registry
  mountPath: /etc/tollgate/schema-registry
  readOnly: true
{{- end }}
- name: tmp
  mountPath: /tmp
{{- end }}
{{- define "tollgate.env" }}
- name: POD_IP
  valueFrom: {fieldRef: {fieldPath: status.podIP}}
{{- if not .Values.config.rest.baseUri }}
# Consumer base_uri values name this pod, so a consumer's next request lands where
# its instance lives (README: "Consumers stick to their pod").
- name: TOLLGATE_REST_BASE_URI
  value: "http://$(POD_IP):{{ include "tollgate.clientPort" . }}"
{{- end }}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}
{{- define "tollgate.envoyContainer" }}
- name: envoy
  image: {{ include "tollgate.image" (dict "image" .Values.envoy.image "default" "") }}
  imagePullPolicy: {{ .Values.envoy.image.pullPolicy }}
  {{- if .Values.envoy.nativeSidecar }}
  # Native sidecar: up before Tollgate starts, down after it has drained.
  restartPolicy: Always
  {{- end }}
  # The binary itself, not the image's entrypoint script (which wants root to switch users).
  command: [/usr/local/bin/envoy]
  args:
    - --config-path
    - /etc/envoy/envoy.yaml
    - --log-level
    - {{ .Values.envoy.logLevel }}
    # No shared memory for hot restart: the root filesystem is read-only and pods restart instead.
    - --disable-hot-restart
    # Tollgate asks for the drain at SIGTERM (drain_listeners?graceful): Envoy then answers
    # every request with Connection: close at once and closes its listeners after drainTimeSec.
    - --drain-time-s
    - {{ .Values.envoy.drainTimeSec | quote }}
    - --drain-strategy
    - immediate
  ports:
    - name: http
      containerPort: {{ .Values.envoy.listenPort }}
    - name: envoy-stats
      containerPort: {{ .Values.envoy.statsPort }}
  startupProbe:
    httpGet: {path: /ready, port: envoy-stats}
    {{- toYaml .Values.probes.startup | nindent 4 }}
  readinessProbe:
    httpGet: {path: /ready, port: envoy-stats}
    {{- toYaml .Values.probes.readiness | nindent 4 }}
  livenessProbe:
    tcpSocket: {port: envoy-stats}
    {{- toYaml .Values.probes.liveness | nindent 4 }}
  {{- if not .Values.envoy.nativeSidecar }}
  # An ordinary container gets SIGTERM together with Tollgate and would exit at once: it stays
  # up while Tollgate drains (Tollgate asks it to drain) and finishes its requests.
  lifecycle:
    preStop:
      exec: {command: [/bin/sleep, {{ add (div .Values.config.shutdown.drainDelayMs 1000) 2 | quote }}]}
  {{- end }}
  resources:
    {{- toYaml .Values.envoy.resources | nindent 4 }}
  securityContext:
    {{- toYaml .Values.envoy.securityContext | nindent 4 }}
  volumeMounts:
    - name: envoy-config
      mountPath: /etc/envoy
      readOnly: true
    {{- if .Values.envoy.tls.secretName }}
    - name: envoy-tls
      mountPath: /etc/envoy/tls
      readOnly: true
    {{- end }}
{{- end }}
