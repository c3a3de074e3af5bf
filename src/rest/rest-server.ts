import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { CompiledAcls } from '../acl/acl-compile.ts';
import { type Checker, type CheckOutcome, passes } from '../check/check.ts';
import { CHECK_HANDOFF_HEADER, type CheckHandoff } from '../check/check-handoff.ts';
import type { Config } from '../config/schema.ts';
import { ServiceError } from '../errors.ts';
import { thumbprintFromForwardedCert } from '../jwt/certificate-binding.ts';
import { KafkaError } from '../kafka/kafka-errors.ts';
import type { KafkaSession } from '../kafka/session.ts';
import type { SessionManager } from '../kafka/session-manager.ts';
import { isLegalTopicName } from '../kafka/topic-name.ts';
import { InFlightLimit } from '../limits/in-flight-limit.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { authorizationValues, clientAddress } from '../routes/raw-headers.ts';
import { type KnownRoute, mapRoute, type RouteId } from '../routes/route-map.ts';
import { assertNoBody, parseJsonObject, readBody } from './body.ts';
import * as consumers from './consumer-routes.ts';
import { type EmbeddedFormat, negotiateAccept, requestFormat } from './media.ts';
import { refuseOverloaded } from './overload.ts';
import type { RequestContext } from './request-context.ts';
import { send, sendJson } from './respond.ts';
import { renderRestError } from './rest-error.ts';
import * as topics from './topic-routes.ts';
import * as v3 from './v3-routes.ts';

/**
 * The Kafka REST v2 (+ v3 topic admin) HTTP server. It routes with the same `mapRoute` as the
 * gate, once per request, so the resource that was authorized is the resource acted on, and it
 * runs the same Checker itself on the same inputs (the route, the raw Authorization values, the
 * client address the gate checked; cached token verification makes that cheap): a request that
 * reaches this port without passing Envoy still cannot act. In `tollgate serve` the gate hands
 * its passed check over instead (check-handoff.ts): used only when it was made on exactly what
 * this request carries, else the check runs here in full.
 *
 * Order of checks (reference section 3): route → body → Content-Type/Accept → authentication →
 * endpoint logic.
 */

type Handler = (ctx: RequestContext) => Promise<void>;

function firstValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

const HANDLERS: Partial<Record<RouteId, Handler>> = {
  'GET /brokers': topics.getBrokers,
  'GET /topics': topics.getTopics,
  'GET /topics/{topic}': topics.getTopic,
  'POST /topics/{topic}': topics.produce,
  'GET /topics/{topic}/partitions': topics.getPartitions,
  'GET /topics/{topic}/partitions/{partition}': topics.getPartition,
  'POST /topics/{topic}/partitions/{partition}': topics.produce,
  'GET /topics/{topic}/partitions/{partition}/offsets': topics.getPartitionOffsets,
  'POST /consumers/{group}': consumers.createConsumer,
  'DELETE /consumers/{group}/instances/{instance}': consumers.deleteConsumer,
  'POST /consumers/{group}/instances/{instance}/subscription': consumers.subscribe,
  'GET /consumers/{group}/instances/{instance}/subscription': consumers.getSubscription,
  'DELETE /consumers/{group}/instances/{instance}/subscription': consumers.unsubscribe,
  'POST /consumers/{group}/instances/{instance}/assignments': consumers.assign,
  'GET /consumers/{group}/instances/{instance}/assignments': consumers.getAssignments,
  'POST /consumers/{group}/instances/{instance}/positions': consumers.seek,
  'POST /consumers/{group}/instances/{instance}/positions/beginning': consumers.seekToBeginning,
  'POST /consumers/{group}/instances/{instance}/positions/end': consumers.seekToEnd,
  'POST /consumers/{group}/instances/{instance}/offsets': consumers.commitOffsets,
  'GET /consumers/{group}/instances/{instance}/offsets': consumers.getCommittedOffsets,
  'GET /consumers/{group}/instances/{instance}/records': consumers.fetchRecords,
  'GET /v3/clusters': v3.listClusters,
  'GET /v3/clusters/{cluster}': v3.getCluster,
  'GET /v3/clusters/{cluster}/topics': v3.listTopicsV3,
  'POST /v3/clusters/{cluster}/topics': v3.createTopicV3,
  'GET /v3/clusters/{cluster}/topics/{topic}': v3.getTopicV3,
  'DELETE /v3/clusters/{cluster}/topics/{topic}': v3.deleteTopicV3,
  'GET /v3/clusters/{cluster}/topics/{topic}/configs': v3.listTopicConfigs,
  'GET /v3/clusters/{cluster}/topics/{topic}/configs/{config}': v3.listTopicConfigs,
  'PUT /v3/clusters/{cluster}/topics/{topic}/configs/{config}': v3.alterTopicConfigV3,
  'DELETE /v3/clusters/{cluster}/topics/{topic}/configs/{config}': v3.alterTopicConfigV3,
  'GET /v3/clusters/{cluster}/topics/{topic}/partitions': v3.listPartitionsV3,
};

/** Routes whose body is a JSON object (all POST/PUT, and GET offsets). */
function takesJsonBody(route: KnownRoute, method: string): boolean {
  return (
    method === 'POST' ||
    method === 'PUT' ||
    route.id === 'GET /consumers/{group}/instances/{instance}/offsets'
  );
}

async function readJsonBody(
  req: IncomingMessage,
  takesJson: boolean,
  limitBytes: number,
): Promise<Record<string, unknown> | null> {
  const raw = await readBody(req, limitBytes);
  if (takesJson) return parseJsonObject(raw);
  assertNoBody(raw);
  return null;
}

export interface RestServerDeps {
  readonly config: Config;
  readonly checker: Checker;
  /** `tollgate serve`: the gate's passed checks, by the id Envoy forwards. */
  readonly handoff?: CheckHandoff;
  readonly sessions: SessionManager;
  /** The ACLs for filtering topic lists; null when authorization is off. */
  readonly acls: () => CompiledAcls | null;
  /** Authorization off: the one session, with Tollgate's own Kafka identity, that serves every caller. */
  readonly sharedSession: KafkaSession | null;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly startedAtMs: number;
  readonly version: string;
  /** True once shutdown began: every answer then closes its connection (issue 9). */
  readonly isDraining?: () => boolean;
}

export function createRestServer(deps: RestServerDeps): Server {
  const { config, metrics, logger } = deps;
  const inFlight = new Set<ServerResponse>();

  async function handle(
    req: IncomingMessage,
    res: ServerResponse,
    routeLabel: { id: string },
  ): Promise<void> {
    const method = req.method ?? 'GET';
    const target = req.url ?? '/';
    // The inputs of the check, read once: the raw Authorization values, the client address the
    // gate checked, and the client certificate's thumbprint (set by Envoy alone:
    // forward_client_cert_details SANITIZE_SET with client TLS; Envoy's default SANITIZE strips a
    // client's copy; this listener is loopback-only behind it).
    const authorization = authorizationValues(req.rawHeaders);
    const host = clientAddress(req.rawHeaders, req.socket.remoteAddress);
    const clientCertThumbprint = thumbprintFromForwardedCert(
      firstValue(req.headers['x-forwarded-client-cert']),
    );
    const handedOff =
      deps.handoff?.take(firstValue(req.headers[CHECK_HANDOFF_HEADER]), {
        method,
        path: target,
        authorization,
        host,
        clientCertThumbprint,
      }) ?? null;
    const route = handedOff?.route ?? mapRoute(method, target);
    if (!route.known) throw new ServiceError(route.status === 405 ? 'METHOD_NOT_ALLOWED' : 'ROUTE_UNKNOWN');
    routeLabel.id = route.id;
    if (method === 'OPTIONS') {
      // CORS preflight: 200 with an Origin, else 400 (with the error body every 4xx has).
      if (!req.headers.origin)
        throw new ServiceError('REQUEST_INVALID', 'A CORS preflight needs an Origin header');
      send(req, res, 200, null);
      return;
    }
    if (route.id === 'GET /_health') {
      sendJson(
        req,
        res,
        200,
        {
          process_uptime_sec: Math.floor((Date.now() - deps.startedAtMs) / 1000),
          karapace_version: deps.version,
        },
        'application/json',
      );
      return;
    }

    // Body (size-capped), then media types. The raw bytes stay inside readJsonBody's frame, so
    // they are garbage once parsed instead of living as long as the request does.
    const json = await readJsonBody(req, takesJsonBody(route, method), config.rest.bodyLimitBytes);
    let format: EmbeddedFormat = 'binary';
    if (method === 'POST' || method === 'PUT') {
      const named = requestFormat(req.headers['content-type']);
      if (named === null) throw new ServiceError('MEDIA_TYPE_UNSUPPORTED');
      format = named;
    }
    const accept = negotiateAccept(req.headers.accept);
    if (!accept.acceptable) throw new ServiceError('NOT_ACCEPTABLE');

    // Authentication and authorization: the gate's own check of this very request, or the same
    // check on the same inputs as the gate's.
    const requestId = firstValue(req.headers['x-request-id']);
    let outcome: CheckOutcome;
    if (handedOff) {
      outcome = handedOff.outcome;
      metrics.restCheckHandoffs.labels('used').inc();
    } else {
      if (deps.handoff) metrics.restCheckHandoffs.labels('rechecked').inc();
      outcome = await deps.checker.check(
        { route, method, path: target, authorization, host, clientCertThumbprint },
        { transport: 'rest', requestId },
      );
    }
    if (!passes(outcome)) throw new ServiceError(outcome.code ?? 'INTERNAL', outcome.detail ?? undefined);
    if (route.id === 'GET /') {
      sendJson(req, res, 200, {});
      return;
    }
    if (route.id === 'GET /metrics') {
      const { contentType, body } = await metrics.exposition();
      send(req, res, 200, body, contentType);
      return;
    }

    let session: KafkaSession;
    if (deps.sharedSession) {
      session = deps.sharedSession;
      session.touch();
    } else {
      const { token, principal, issuer, expiresAtMs } = outcome;
      // Fail closed: a passed check always carries the verified token; without it, act on nothing.
      if (token === null || principal === null || issuer === null || expiresAtMs === null) {
        throw new ServiceError('INTERNAL', 'a passed check carried no verified token');
      }
      session = deps.sessions.acquire({ issuer, principal }, { token, expiresAtMs });
    }
    const handler = HANDLERS[route.id];
    if (!handler) throw new ServiceError('ROUTE_UNKNOWN');
    const topicParam = route.params.topic;
    if (topicParam !== undefined && !isLegalTopicName(topicParam)) {
      throw new ServiceError(
        'REQUEST_INVALID',
        'Invalid topic name: expected 1-249 characters of [a-zA-Z0-9._-], not . or ..',
      );
    }
    const queryAt = target.indexOf('?');
    await handler({
      req,
      res,
      route,
      config,
      metrics,
      logger,
      json,
      requestFormat: format,
      accept,
      session,
      sessions: deps.sessions,
      principal: outcome.principal ?? '',
      host,
      requestId,
      checker: deps.checker,
      acls: deps.acls(),
      query: new URLSearchParams(queryAt >= 0 ? target.slice(queryAt + 1) : ''),
    });
  }

  function fail(req: IncomingMessage, res: ServerResponse, err: unknown): void {
    if (err instanceof KafkaError) {
      metrics.kafkaErrors.labels(err.code).inc();
      if (err.tlsFailure !== null) {
        // Never downgraded to plaintext: the request fails, and the log says which check refused.
        metrics.kafkaTlsFailures.labels(err.tlsFailure).inc();
        logger.error(
          { event: 'kafka_tls_failed', reason: err.tlsFailure, detail: err.message },
          'Kafka broker TLS connection refused',
        );
      }
      if (err.code === 'KAFKA_TOKEN_REJECTED') {
        // The broker's reason (status and message, never the token): Tollgate and Kafka disagree.
        logger.warn(
          { event: 'kafka_token_rejected', reason: err.message },
          'Kafka refused a token Tollgate accepted',
        );
      }
    }
    let answer: ReturnType<typeof renderRestError>;
    if (err instanceof ServiceError) {
      answer = renderRestError(err.code, err.message);
    } else {
      // Not a coded error: a bug or a dependency we did not translate. Log it whole, answer 500.
      logger.error(
        { event: 'rest_internal_error', err: (err as Error)?.message, stack: (err as Error)?.stack },
        'unhandled error',
      );
      answer = renderRestError('INTERNAL', null);
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    send(req, res, answer.status, answer.body, answer.contentType, answer.headers);
  }

  const limit = new InFlightLimit(config.rest.maxInFlightRequests);
  const server = createServer((req, res) => {
    // Overload: refuse before reading the body or checking the token, rather than queue.
    if (!limit.tryAcquire()) {
      metrics.shed.labels('rest', 'concurrency').inc();
      refuseOverloaded(req, res, config.rest.overloadRetryAfterSec);
      return;
    }
    const started = process.hrtime.bigint();
    const routeLabel = { id: 'unknown' };
    // Draining: Envoy opens a fresh upstream connection for its next request instead of
    // keeping this one busy, so the server can close once Envoy stops sending.
    if (deps.isDraining?.()) res.setHeader('connection', 'close');
    inFlight.add(res);
    res.on('close', () => {
      limit.release();
      inFlight.delete(res);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics.restRequests.labels(routeLabel.id, req.method ?? 'GET', String(res.statusCode)).inc();
      metrics.restDuration.labels(routeLabel.id).observe(seconds);
    });
    handle(req, res, routeLabel).catch((err) => fail(req, res, err));
  });
  return server;
}
