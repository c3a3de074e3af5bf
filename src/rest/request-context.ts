import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { CompiledAcls } from '../acl/acl-compile.ts';
import { allowsOperation } from '../acl/acl-match.ts';
import type { Operation } from '../acl/acl-types.ts';
import type { KnownRoute } from '../authz/route-map.ts';
import type { Config } from '../config/schema.ts';
import type { KafkaSession } from '../kafka/session.ts';
import type { Metrics } from '../metrics/metrics.ts';
import type { AcceptResult, EmbeddedFormat } from './media.ts';
import { RestError } from './rest-error.ts';

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
  readonly principal: string;
  /** Rules for topics named in bodies; null when authorization is off. */
  readonly acls: CompiledAcls | null;
  readonly query: URLSearchParams;
}

/**
 * Topics named only in a request body (subscription, assignments, positions, offsets) get the
 * same ACL decision as routes do, before anything reaches Kafka; the broker then checks again.
 */
export function assertTopicAllowed(ctx: RequestContext, topic: string, operation: Operation = 'READ'): void {
  if (ctx.acls === null) return;
  if (!allowsOperation(ctx.acls, ctx.principal, { resourceType: 'TOPIC', name: topic, operation })) {
    throw new RestError(403, 40301, `Not authorized: ${operation} on TOPIC ${JSON.stringify(topic)}`);
  }
}

export function canDescribeTopic(ctx: RequestContext, topic: string): boolean {
  if (ctx.acls === null) return true;
  return allowsOperation(ctx.acls, ctx.principal, {
    resourceType: 'TOPIC',
    name: topic,
    operation: 'DESCRIBE',
  });
}
