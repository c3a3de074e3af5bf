import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { CompiledAcls } from '../acl/acl-compile.ts';
import { allowsOperation } from '../acl/acl-match.ts';
import { CLUSTER_NAME, type Operation, type ResourceRequest } from '../acl/acl-types.ts';
import { type Checker, passes } from '../check/check.ts';
import type { Config } from '../config/schema.ts';
import { ServiceError } from '../errors.ts';
import type { KafkaSession } from '../kafka/session.ts';
import type { SessionManager } from '../kafka/session-manager.ts';
import type { Metrics } from '../metrics/metrics.ts';
import type { KnownRoute } from '../routes/route-map.ts';
import type { AcceptResult, EmbeddedFormat } from './media.ts';

/** Everything a route handler gets: the request, the caller's session, and the checks it may need. */
export interface RequestContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly route: KnownRoute;
  readonly config: Config;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** Parsed JSON object body (POST, GET offsets), else null. */
  readonly json: Record<string, unknown> | null;
  /** Embedded format named by the request Content-Type (POST only). */
  readonly requestFormat: EmbeddedFormat;
  readonly accept: AcceptResult;
  readonly session: KafkaSession;
  /** Owns the sessions' consumer instances (and their gauge). */
  readonly sessions: SessionManager;
  readonly principal: string;
  /** The client address the gate checked (see routes/raw-headers.ts). */
  readonly host: string | undefined;
  readonly requestId: string | undefined;
  readonly checker: Checker;
  /** Rules for filtering topic lists; null when authorization is off. */
  readonly acls: CompiledAcls | null;
  readonly query: URLSearchParams;
}

/**
 * Topics named only in a request body (subscription, assignments, positions, offsets) get the
 * same ACL decision as routes do, before anything reaches Kafka; the broker then checks again.
 */
export function assertTopicAllowed(ctx: RequestContext, topic: string, operation: Operation = 'READ'): void {
  assertAnyAllowed(ctx, [{ resourceType: 'TOPIC', name: topic, operation }]);
}

/** Passes when the principal may do at least one of `requests` (Kafka's either-or rules); else ACL_DENIED. */
export function assertAnyAllowed(ctx: RequestContext, requests: readonly ResourceRequest[]): void {
  const outcome = ctx.checker.checkResources(
    { principal: ctx.principal, host: ctx.host },
    requests,
    { method: ctx.req.method ?? 'GET', path: ctx.req.url ?? '/' },
    { transport: 'rest', requestId: ctx.requestId },
  );
  if (!passes(outcome)) throw new ServiceError(outcome.code ?? 'INTERNAL', outcome.detail ?? undefined);
}

/** Kafka's CreateTopics rule: CREATE on the topic, or CREATE on the cluster. */
export function assertMayCreateTopic(ctx: RequestContext, topic: string): void {
  assertAnyAllowed(ctx, [
    { resourceType: 'TOPIC', name: topic, operation: 'CREATE' },
    { resourceType: 'CLUSTER', name: CLUSTER_NAME, operation: 'CREATE' },
  ]);
}

/** Topic lists show what the principal may describe (not filtered in audit mode). */
export function canDescribeTopic(ctx: RequestContext, topic: string): boolean {
  if (ctx.acls === null || ctx.config.mode === 'audit') return true;
  return allowsOperation(
    ctx.acls,
    ctx.principal,
    { resourceType: 'TOPIC', name: topic, operation: 'DESCRIBE' },
    ctx.host,
  );
}
