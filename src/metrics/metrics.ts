import client from 'prom-client';
import { ERROR_CODES, type ErrorCode } from '../errors.ts';

/**
 * Every metric Tollgate exports, in one registry. Label values come from closed sets
 * (error codes, results, route templates), never from raw user input. Children for the
 * fixed label sets are created up front so the hot path only increments.
 */

export type DecisionResult = 'allow' | 'deny' | 'audit_allow';
export type Transport = 'grpc' | 'http';
export type SessionCloseReason = 'idle' | 'expired' | 'shutdown';
/** Work refused before it started, to stay responsive under overload. */
export type ShedComponent = 'authz' | 'rest';
export type ShedReason = 'deadline' | 'concurrency';

const DECISION_RESULTS: readonly DecisionResult[] = ['allow', 'deny', 'audit_allow'];
const SESSION_CLOSE_REASONS: readonly SessionCloseReason[] = ['idle', 'expired', 'shutdown'];

/** Why a TLS connection to a broker was refused: a closed set, used as a metric label. */
export type KafkaTlsFailure = 'untrusted' | 'expired' | 'hostname_mismatch' | 'handshake';
const KAFKA_TLS_FAILURES: readonly KafkaTlsFailure[] = [
  'untrusted',
  'expired',
  'hostname_mismatch',
  'handshake',
];

/** Adds the counts gathered since the last scrape to their prom-client children. */
function flush(pending: Float64Array, children: readonly client.Counter.Internal[]): void {
  for (let i = 0; i < pending.length; i++) {
    if (pending[i] === 0) continue;
    children[i]!.inc(pending[i]);
    pending[i] = 0;
  }
}

/** Reason label for an allowed request. */
export const REASON_OK = 'OK';

export class Metrics {
  readonly registry: client.Registry;
  readonly decisions: client.Counter<'result' | 'reason'>;
  readonly checkDuration: client.Histogram<'transport'>;
  readonly tokenCache: client.Counter<'result'>;
  readonly restCheckHandoffs: client.Counter<'result'>;
  readonly jwksFetches: client.Counter<'issuer' | 'result'>;
  readonly aclReloads: client.Counter<'result'>;
  readonly aclRules: client.Gauge;
  readonly restRequests: client.Counter<'route' | 'method' | 'status'>;
  readonly restDuration: client.Histogram<'route'>;
  readonly recordsProduced: client.Counter;
  readonly recordsConsumed: client.Counter;
  readonly bytesProduced: client.Counter;
  readonly bytesConsumed: client.Counter;
  readonly sessionsActive: client.Gauge;
  readonly sessionsClosed: client.Counter<'reason'>;
  readonly consumerInstances: client.Gauge;
  readonly tokenSwaps: client.Counter;
  readonly kafkaErrors: client.Counter<'code'>;
  readonly kafkaTlsFailures: client.Counter<'reason'>;
  readonly ready: client.Gauge<'component'>;
  readonly shed: client.Counter<'component' | 'reason'>;

  // The two counters every Check moves are counted here and added to prom-client when scraped
  // (their `collect`): a prom-client inc() builds a label-hash string and a result object per
  // call, most of what a cached Check allocated in metrics (issue #14).
  /** result -> reason -> slot in pendingDecisions. */
  private readonly decisionSlots = new Map<DecisionResult, Map<string, number>>();
  private readonly decisionChildren: client.Counter.Internal[] = [];
  private readonly pendingDecisions: Float64Array;
  private readonly pendingCache = new Float64Array(2);
  private readonly cacheChildren: client.Counter.Internal[] = [];
  private readonly checkChildren: Record<Transport, client.Histogram.Internal<'transport'>>;

  constructor(options: { collectDefault?: boolean } = {}) {
    const registry = new client.Registry();
    this.registry = registry;
    if (options.collectDefault ?? true) {
      client.collectDefaultMetrics({ register: registry, prefix: 'tollgate_' });
      // prom-client names three gauges *_total, which Prometheus reserves for counters
      // (promtool check metrics refuses them); the same numbers are in tollgate_nodejs_active_*.
      for (const name of ['active_handles_total', 'active_requests_total', 'active_resources_total']) {
        registry.removeSingleMetric(`tollgate_nodejs_${name}`);
      }
    }
    const r = [registry];

    this.pendingDecisions = new Float64Array(DECISION_RESULTS.length * (ERROR_CODES.length + 1));
    this.decisions = new client.Counter({
      name: 'tollgate_authz_decisions_total',
      help: 'Authorization decisions by result (allow, deny, audit_allow) and reason code.',
      labelNames: ['result', 'reason'],
      registers: r,
      collect: () => flush(this.pendingDecisions, this.decisionChildren),
    });
    this.checkDuration = new client.Histogram({
      name: 'tollgate_authz_check_duration_seconds',
      help: 'Time to answer one check, from request to response, by transport (grpc, http).',
      labelNames: ['transport'],
      buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: r,
    });
    this.tokenCache = new client.Counter({
      name: 'tollgate_jwt_cache_requests_total',
      help: 'Verified-token cache lookups by result (hit, miss).',
      labelNames: ['result'],
      registers: r,
      collect: () => flush(this.pendingCache, this.cacheChildren),
    });
    this.restCheckHandoffs = new client.Counter({
      name: 'tollgate_rest_check_handoffs_total',
      help: "REST requests in `tollgate serve` by how they were authorized: the gate's passed check handed over (used), or checked again in full (rechecked).",
      labelNames: ['result'],
      registers: r,
    });
    this.jwksFetches = new client.Counter({
      name: 'tollgate_jwks_fetches_total',
      help: 'JWKS fetches by configured issuer and result (ok, error).',
      labelNames: ['issuer', 'result'],
      registers: r,
    });
    this.aclReloads = new client.Counter({
      name: 'tollgate_acl_reloads_total',
      help: 'ACL file loads by result (ok, error); on error the previous rules stay in force.',
      labelNames: ['result'],
      registers: r,
    });
    this.aclRules = new client.Gauge({
      name: 'tollgate_acl_rules',
      help: 'ACL rules in force.',
      registers: r,
    });
    this.restRequests = new client.Counter({
      name: 'tollgate_rest_requests_total',
      help: 'REST requests by route template, method and HTTP status.',
      labelNames: ['route', 'method', 'status'],
      registers: r,
    });
    this.restDuration = new client.Histogram({
      name: 'tollgate_rest_request_duration_seconds',
      help: 'REST request latency by route template.',
      labelNames: ['route'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15, 30],
      registers: r,
    });
    this.recordsProduced = new client.Counter({
      name: 'tollgate_rest_records_produced_total',
      help: 'Records acknowledged by Kafka on produce.',
      registers: r,
    });
    this.recordsConsumed = new client.Counter({
      name: 'tollgate_rest_records_consumed_total',
      help: 'Records returned to REST consumers.',
      registers: r,
    });
    this.bytesProduced = new client.Counter({
      name: 'tollgate_rest_produced_bytes_total',
      help: 'Key and value bytes acknowledged by Kafka on produce.',
      registers: r,
    });
    this.bytesConsumed = new client.Counter({
      name: 'tollgate_rest_consumed_bytes_total',
      help: 'Key and value bytes returned to REST consumers.',
      registers: r,
    });
    this.sessionsActive = new client.Gauge({
      name: 'tollgate_kafka_sessions_active',
      help: 'Per-principal Kafka sessions currently open.',
      registers: r,
    });
    this.sessionsClosed = new client.Counter({
      name: 'tollgate_kafka_sessions_closed_total',
      help: 'Kafka sessions closed, by reason (idle, expired, shutdown).',
      labelNames: ['reason'],
      registers: r,
    });
    this.consumerInstances = new client.Gauge({
      name: 'tollgate_kafka_consumer_instances',
      help: 'REST consumer instances currently open.',
      registers: r,
    });
    this.tokenSwaps = new client.Counter({
      name: 'tollgate_kafka_token_swaps_total',
      help: 'Sessions that took a newer token for the same principal.',
      registers: r,
    });
    this.kafkaErrors = new client.Counter({
      name: 'tollgate_kafka_errors_total',
      help: 'Errors from Kafka, by Tollgate error code.',
      labelNames: ['code'],
      registers: r,
    });
    this.kafkaTlsFailures = new client.Counter({
      name: 'tollgate_kafka_tls_failures_total',
      help: 'Kafka requests that failed because a broker TLS connection was refused, by reason (untrusted, expired, hostname_mismatch, handshake).',
      labelNames: ['reason'],
      registers: r,
    });
    this.ready = new client.Gauge({
      name: 'tollgate_ready',
      help: '1 when the component is ready to serve (authz: keys and ACLs loaded; rest: listening).',
      labelNames: ['component'],
      registers: r,
    });

    this.shed = new client.Counter({
      name: 'tollgate_requests_shed_total',
      help: 'Requests refused before any work under overload (authz: deadline already passed or too many checks in flight; rest: too many requests in flight).',
      labelNames: ['component', 'reason'],
      registers: r,
    });

    for (const result of DECISION_RESULTS) {
      const slots = new Map<string, number>();
      for (const reason of [REASON_OK, ...ERROR_CODES]) {
        slots.set(reason, this.decisionChildren.length);
        this.decisionChildren.push(this.decisions.labels(result, reason));
      }
      this.decisionSlots.set(result, slots);
    }
    this.checkChildren = {
      grpc: this.checkDuration.labels('grpc'),
      http: this.checkDuration.labels('http'),
    };
    this.cacheChildren.push(this.tokenCache.labels('hit'), this.tokenCache.labels('miss'));
    // These series are exported from the start, at 0: in prom-client `labels()` alone creates
    // none, and a series that appears only at its first event is invisible to rate() and to a
    // dashboard until then.
    for (const child of this.cacheChildren) child.inc(0);
    this.restCheckHandoffs.labels('used').inc(0);
    this.restCheckHandoffs.labels('rechecked').inc(0);
    this.aclReloads.labels('ok').inc(0);
    this.aclReloads.labels('error').inc(0);
    for (const reason of SESSION_CLOSE_REASONS) this.sessionsClosed.labels(reason).inc(0);
    this.shed.labels('authz', 'deadline').inc(0);
    this.shed.labels('authz', 'concurrency').inc(0);
    this.shed.labels('rest', 'concurrency').inc(0);
    for (const code of [
      'KAFKA_UNAVAILABLE',
      'KAFKA_AUTH_FAILED',
      'KAFKA_TOKEN_REJECTED',
      'KAFKA_AUTHZ_FAILED',
      'KAFKA_ERROR',
    ] as const) {
      this.kafkaErrors.labels(code).inc(0);
    }
    for (const reason of KAFKA_TLS_FAILURES) this.kafkaTlsFailures.labels(reason).inc(0);
  }

  recordDecision(result: DecisionResult, reason: ErrorCode | typeof REASON_OK): void {
    const slot = this.decisionSlots.get(result)?.get(reason);
    if (slot !== undefined) this.pendingDecisions[slot]! += 1;
  }

  /** One verified-token cache lookup (tollgate_jwt_cache_requests_total). */
  recordTokenCache(hit: boolean): void {
    this.pendingCache[hit ? 0 : 1]! += 1;
  }

  observeCheck(transport: Transport, seconds: number): void {
    this.checkChildren[transport].observe(seconds);
  }

  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
