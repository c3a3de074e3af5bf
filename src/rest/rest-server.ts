import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { CompiledAcls } from '../acl/acl-compile.ts';
import type { Checker } from '../authz/check.ts';
import { denialFor } from '../authz/denial.ts';
import { type KnownRoute, mapRoute, type RouteId } from '../authz/route-map.ts';
import type { Config } from '../config/schema.ts';
import { ServiceError } from '../errors.ts';
import { extractBearer } from '../jwt/bearer.ts';
import { thumbprintFromForwardedCert } from '../jwt/certificate-binding.ts';
import { KafkaError } from '../kafka/kafka-errors.ts';
import type { KafkaSession } from '../kafka/session.ts';
import type { SessionManager } from '../kafka/session-manager.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { assertNoBody, parseJsonObject, readBody } from './body.ts';
import * as consumers from './consumer-routes.ts';
import { type EmbeddedFormat, negotiateAccept, requestFormat } from './media.ts';
import type { RequestContext } from './request-context.ts';
import { send, sendJson } from './respond.ts';
import { fromServiceError, RestError } from './rest-error.ts';
import * as topics from './topic-routes.ts';
import * as v3 from './v3-routes.ts';

/**
 * The Kafka REST v2 (+ v3 topic admin) HTTP server. It routes with the same `mapRoute` as the
 * authorization service, so the resource that was authorized is the resource acted on, and it
 * runs the same check itself (cached token verification makes that cheap): a request that
 * reaches this port without passing Envoy still cannot act.
 *
 * Order of checks (reference section 3): route → body → Content-Type/Accept → authentication →
 * endpoint logic.
 */

type Handler = (ctx: RequestContext) => Promise<void>;

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
    route.route === 'GET /consumers/{group}/instances/{instance}/offsets'
  );
}

export interface RestServerDeps {
  readonly config: Config;
  readonly checker: Checker;
  readonly sessions: SessionManager;
  /** The ACLs for topics named in bodies; null when authorization is off. */
  readonly acls: () => CompiledAcls | null;
  /** The shared service session when authorization is off. */
  readonly serviceSession: KafkaSession | null;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly startedAtMs: number;
  readonly version: string;
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
    const route = mapRoute(method, target);
    if (!route.known) {
      throw route.status === 405
        ? new RestError(405, 405, 'HTTP 405 Method Not Allowed')
        : new RestError(404, 404, 'HTTP 404 Not Found');
    }
    routeLabel.id = route.route;
    if (method === 'OPTIONS') {
      // CORS preflight: 200 with an Origin, else 400.
      send(req, res, req.headers.origin ? 200 : 400, null);
      return;
    }
    if (route.route === 'GET /_health') {
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

    // Body (size-capped), then media types.
    const raw = await readBody(req, config.rest.bodyLimitBytes);
    let json: Record<string, unknown> | null = null;
    if (takesJsonBody(route, method)) json = parseJsonObject(raw);
    else assertNoBody(raw);
    let format: EmbeddedFormat = 'binary';
    if (method === 'POST' || method === 'PUT') {
      const named = requestFormat(req.headers['content-type']);
      if (named === null) throw new RestError(415, 415, 'HTTP 415 Unsupported Media Type');
      format = named;
    }
    const accept = negotiateAccept(req.headers.accept);
    if (!accept.acceptable) throw new RestError(406, 406, 'HTTP 406 Not Acceptable');

    // Authentication and authorization: the same decision the gateway made.
    const outcome = await deps.checker.check({
      method,
      path: target,
      authorization: req.headers.authorization,
      host: req.socket.remoteAddress,
      // Set by Envoy alone (SANITIZE_SET; this listener is loopback-only behind it).
      clientCertThumbprint: thumbprintFromForwardedCert(
        req.headers['x-forwarded-client-cert'] as string | undefined,
      ),
    });
    if (!outcome.allow) {
      const denial = denialFor(outcome);
      res.writeHead(denial.status, {
        ...Object.fromEntries(denial.headers),
        'access-control-allow-origin': '*',
      });
      res.end(denial.body);
      routeLabel.id = route.route;
      return;
    }
    if (route.route === 'GET /') {
      sendJson(req, res, 200, {});
      return;
    }
    if (route.route === 'GET /metrics') {
      const { contentType, body } = await metrics.exposition();
      send(req, res, 200, body, contentType);
      return;
    }

    let session: KafkaSession;
    if (deps.serviceSession) {
      session = deps.serviceSession;
      session.touch();
    } else {
      const bearer = extractBearer(req.headers.authorization, config.jwt.maxTokenBytes);
      if (
        !bearer.ok ||
        outcome.principal === null ||
        outcome.issuer === null ||
        outcome.expiresAtMs === null
      ) {
        throw new RestError(401, 40101, 'Unauthorized', { bodyStyle: 'full' });
      }
      session = deps.sessions.acquire(
        { issuer: outcome.issuer, principal: outcome.principal },
        { token: bearer.token, expiresAtMs: outcome.expiresAtMs },
      );
    }
    const handler = HANDLERS[route.route];
    if (!handler) throw new RestError(404, 404, 'HTTP 404 Not Found');
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
      principal: outcome.principal ?? '',
      acls: deps.acls(),
      query: new URLSearchParams(queryAt >= 0 ? target.slice(queryAt + 1) : ''),
    });
  }

  function fail(req: IncomingMessage, res: ServerResponse, err: unknown): void {
    let restError: RestError;
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
    }
    if (err instanceof RestError) restError = err;
    else if (err instanceof ServiceError) restError = fromServiceError(err);
    else {
      logger.error(
        { event: 'rest_internal_error', err: (err as Error)?.message, stack: (err as Error)?.stack },
        'unhandled error',
      );
      restError = new RestError(500, 500, 'Internal server error');
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const plainJson =
      restError.status === 401 ||
      restError.status === 403 ||
      restError.status === 413 ||
      restError.status === 500;
    sendJson(
      req,
      res,
      restError.status,
      restError.body(),
      plainJson ? 'application/json' : undefined,
      restError.headers,
    );
  }

  const server = createServer((req, res) => {
    const started = process.hrtime.bigint();
    const routeLabel = { id: 'unknown' };
    inFlight.add(res);
    res.on('close', () => {
      inFlight.delete(res);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics.restRequests.labels(routeLabel.id, req.method ?? 'GET', String(res.statusCode)).inc();
      metrics.restDuration.labels(routeLabel.id).observe(seconds);
    });
    handle(req, res, routeLabel).catch((err) => fail(req, res, err));
  });
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  return server;
}
