{{/*
The sidecar's Envoy config: deploy/envoy/envoy.yaml (the local stack's, whose
README explains each setting) with the pod's ports, plus a "stats" listener.
The admin interface stays on loopback because it can stop Envoy or change its
state; kubelet and Prometheus reach /ready and /stats/prometheus through the
stats listener instead, which serves those two paths and nothing else.
CI renders this and runs `envoy --mode validate` on it (make chart-test).
*/}}
{{- define "tollgate.envoyConfig" -}}
{{- $authzPort := include "tollgate.port" .Values.config.authz.grpcListen -}}
{{- $restPort := include "tollgate.port" .Values.config.rest.listen -}}
{{- $principal := .Values.config.authz.principalHeader -}}
admin:
  address:
    socket_address: { address: 127.0.0.1, port_value: {{ .Values.envoy.adminPort }} }
overload_manager:
  resource_monitors:
    - name: envoy.resource_monitors.global_downstream_max_connections
      typed_config:
        "@type": type.googleapis.com/envoy.extensions.resource_monitors.downstream_connections.v3.DownstreamConnectionsConfig
        max_active_downstream_connections: {{ .Values.envoy.maxDownstreamConnections }}
static_resources:
  listeners:
    - name: ingress
      address:
        socket_address: { address: 0.0.0.0, port_value: {{ .Values.envoy.listenPort }} }
      filter_chains:
        - filters:
            - name: envoy.filters.network.http_connection_manager
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                stat_prefix: tollgate_ingress
                codec_type: AUTO
                use_remote_address: true
                request_headers_timeout: {{ .Values.envoy.requestHeadersTimeoutSec }}s
                # One canonical path for ext_authz and the REST process alike.
                normalize_path: true
                merge_slashes: true
                path_with_escaped_slashes_action: REJECT_REQUEST
                # Envoy's own answers get the REST proxy's JSON error body (issue 9),
                # above all the fail-closed 503 when the authz server cannot be reached
                # (which was an empty body). First match wins; ext_authz denials (401,
                # 403, 404, 405) keep the body Tollgate wrote.
                local_reply_config:
                  mappers:
                    - filter:
                        status_code_filter:
                          comparison: { op: EQ, value: { default_value: 503, runtime_key: tollgate.local_reply.unavailable } }
                      body_format_override:
                        json_format:
                          error_code: 50301
                          message: "Service unavailable: %RESPONSE_CODE_DETAILS%"
                    - filter:
                        or_filter:
                          filters:
                            - status_code_filter: { comparison: { op: GE, value: { default_value: 500, runtime_key: tollgate.local_reply.server } } }
                            - status_code_filter: { comparison: { op: EQ, value: { default_value: 400, runtime_key: tollgate.local_reply.bad_request } } }
                            - status_code_filter: { comparison: { op: EQ, value: { default_value: 408, runtime_key: tollgate.local_reply.timeout } } }
                            - status_code_filter: { comparison: { op: EQ, value: { default_value: 413, runtime_key: tollgate.local_reply.too_large } } }
                            - status_code_filter: { comparison: { op: EQ, value: { default_value: 431, runtime_key: tollgate.local_reply.headers_too_large } } }
                      body_format_override:
                        json_format:
                          error_code: "%RESPONSE_CODE%"
                          message: "%RESPONSE_CODE_DETAILS%"
                {{- if and .Values.envoy.tls.secretName .Values.envoy.tls.clientCertificates }}
                # The REST process's own check sees the client certificate's hash, set here and
                # never taken from the client.
                forward_client_cert_details: SANITIZE_SET
                {{- end }}
                {{- if .Values.envoy.accessLog }}
                access_log:
                  - name: envoy.access_loggers.stdout
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog
                      log_format:
                        # Never log Authorization.
                        json_format:
                          time: "%START_TIME%"
                          request_id: "%REQ(X-REQUEST-ID)%"
                          method: "%REQ(:METHOD)%"
                          path: "%REQ(:PATH)%"
                          protocol: "%PROTOCOL%"
                          response_code: "%RESPONSE_CODE%"
                          response_flags: "%RESPONSE_FLAGS%"
                          response_code_details: "%RESPONSE_CODE_DETAILS%"
                          duration_ms: "%DURATION%"
                          upstream_service_time_ms: "%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%"
                          bytes_received: "%BYTES_RECEIVED%"
                          bytes_sent: "%BYTES_SENT%"
                          principal: "%REQ({{ upper $principal }})%"
                          downstream_remote: "%DOWNSTREAM_REMOTE_ADDRESS%"
                {{- end }}
                route_config:
                  name: tollgate
                  virtual_hosts:
                    - name: tollgate
                      domains: ["*"]
                      routes:
                        # Liveness of the REST process, unauthenticated; exact match only.
                        - name: health
                          match: { path: /_health }
                          route:
                            cluster: tollgate_rest
                            timeout: 5s
                          request_headers_to_remove: [{{ $principal }}, x-tollgate-client-address, x-tollgate-check]
                          typed_per_filter_config:
                            envoy.filters.http.ext_authz:
                              "@type": type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute
                              disabled: true
                        # The Kafka REST API, authorised. No route-level removal of the
                        # principal header here: the router would apply it after
                        # ext_authz and delete the principal the server set.
                        - name: kafka-rest
                          match: { prefix: / }
                          route:
                            cluster: tollgate_rest
                            timeout: {{ .Values.envoy.routeTimeoutSec }}s
                            idle_timeout: {{ .Values.envoy.routeIdleTimeoutSec }}s
                          typed_per_filter_config:
                            envoy.filters.http.ext_authz:
                              "@type": type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute
                              check_settings:
                                context_extensions:
                                  api: kafka-rest-v2
                http_filters:
                  # Drops client-sent principal and client-address headers before
                  # anything reads them (the authz server sets both on an allow).
                  - name: envoy.filters.http.header_mutation
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.header_mutation.v3.HeaderMutation
                      mutations:
                        request_mutations:
                          - remove: {{ $principal }}
                          - remove: x-tollgate-client-address
                          - remove: x-tollgate-check
                  - name: envoy.filters.http.ext_authz
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz
                      transport_api_version: V3
                      grpc_service:
                        envoy_grpc:
                          cluster_name: tollgate_authz
                        timeout: {{ divf .Values.envoy.extAuthz.timeoutMs 1000 }}s
                      # Fail closed, always: not a value on purpose.
                      failure_mode_allow: false
                      status_on_error:
                        code: {{ .Values.envoy.extAuthz.statusOnError }}
                      clear_route_cache: false
                      {{- if and .Values.envoy.tls.secretName .Values.envoy.tls.clientCertificates }}
                      # RFC 8705: the Check compares the certificate with a bound token's cnf.
                      include_peer_certificate: true
                      {{- end }}
                  - name: envoy.filters.http.router
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
          {{- if .Values.envoy.tls.secretName }}
          transport_socket:
            name: envoy.transport_sockets.tls
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
              require_client_certificate: false
              common_tls_context:
                tls_params: { tls_minimum_protocol_version: TLSv1_2 }
                alpn_protocols: [h2, http/1.1]
                tls_certificates:
                  - certificate_chain: { filename: /etc/envoy/tls/tls.crt }
                    private_key: { filename: /etc/envoy/tls/tls.key }
                {{- if .Values.envoy.tls.clientCertificates }}
                validation_context:
                  trusted_ca: { filename: /etc/envoy/tls/ca.crt }
                {{- end }}
          {{- end }}
    # Probes and scraping: /ready and /stats/prometheus from the admin interface.
    - name: stats
      address:
        socket_address: { address: 0.0.0.0, port_value: {{ .Values.envoy.statsPort }} }
      filter_chains:
        - filters:
            - name: envoy.filters.network.http_connection_manager
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                stat_prefix: tollgate_stats
                request_headers_timeout: 5s
                route_config:
                  name: stats
                  virtual_hosts:
                    - name: stats
                      domains: ["*"]
                      routes:
                        - match: { path: /ready, headers: [{ name: ":method", string_match: { exact: GET } }] }
                          route: { cluster: envoy_admin, timeout: 2s }
                        - match: { path: /stats/prometheus, headers: [{ name: ":method", string_match: { exact: GET } }] }
                          route: { cluster: envoy_admin, timeout: 10s }
                        - match: { prefix: / }
                          direct_response: { status: 404 }
                http_filters:
                  - name: envoy.filters.http.router
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:
    - name: tollgate_authz
      type: STATIC
      connect_timeout: 0.25s
      # Overload (issue #14): Envoy sheds Checks itself, before they reach Tollgate. Past
      # max_requests Checks in flight to the authz server, and past max_pending_requests
      # waiting for a stream or a connection, a Check fails at once (the circuit breaker overflows)
      # and ext_authz answers status_on_error (503): a fast, explicit refusal that costs
      # Tollgate nothing, where a queue would make every Check late and every timed-out one a
      # RST_STREAM on Tollgate's connection (bench/findings.md). 256 in flight is ~25 ms of
      # cached Checks at ~10k/s per core; Envoy's defaults are 1,024 each.
      circuit_breakers:
        thresholds:
          - priority: DEFAULT
            max_requests: 256
            max_pending_requests: 256
            max_retries: 0
      typed_extension_protocol_options:
        envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
          "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
          explicit_http_config:
            http2_protocol_options: {}
      load_assignment:
        cluster_name: tollgate_authz
        endpoints:
          - lb_endpoints:
              - endpoint:
                  address:
                    socket_address: { address: 127.0.0.1, port_value: {{ $authzPort }} }
    - name: tollgate_rest
      type: STATIC
      connect_timeout: 0.25s
      typed_extension_protocol_options:
        envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
          "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
          {{- if le (int .Values.config.http.keepAliveTimeoutMs) 60000 }}
          {{- fail "config.http.keepAliveTimeoutMs must be above 60000: Envoy's upstream idle timeout (60 s) must end first" }}
          {{- end }}
          # Below Tollgate's keep-alive timeout: Envoy closes an idle connection first.
          common_http_protocol_options:
            idle_timeout: 60s
          explicit_http_config:
            http_protocol_options: {}
      load_assignment:
        cluster_name: tollgate_rest
        endpoints:
          - lb_endpoints:
              - endpoint:
                  address:
                    socket_address: { address: 127.0.0.1, port_value: {{ $restPort }} }
    - name: envoy_admin
      type: STATIC
      connect_timeout: 0.25s
      load_assignment:
        cluster_name: envoy_admin
        endpoints:
          - lb_endpoints:
              - endpoint:
                  address:
                    socket_address: { address: 127.0.0.1, port_value: {{ .Values.envoy.adminPort }} }
{{- end }}
