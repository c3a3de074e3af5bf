import { type ErrorCode, ServiceError } from '../errors.ts';
import type { KafkaTlsFailure } from '../metrics/metrics.ts';
import { isTokenRejection } from './oauthbearer-authenticator.ts';

/**
 * kafkajs errors, translated at the boundary of the module that owns kafkajs. Nothing outside
 * src/kafka/ sees a kafkajs error: callers get a ServiceError with one of our codes, plus the
 * broker's error name (e.g. UNKNOWN_TOPIC_OR_PARTITION) when there was one.
 */

// Node's TLS verification codes (OpenSSL's X509_V_ERR_* names, and Node's own for the host check).
const TLS_CODES: ReadonlyMap<string, KafkaTlsFailure> = new Map([
  ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'untrusted'],
  ['UNABLE_TO_GET_ISSUER_CERT', 'untrusted'],
  ['UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'untrusted'],
  ['SELF_SIGNED_CERT_IN_CHAIN', 'untrusted'],
  ['DEPTH_ZERO_SELF_SIGNED_CERT', 'untrusted'],
  ['CERT_SIGNATURE_FAILURE', 'untrusted'],
  ['CERT_UNTRUSTED', 'untrusted'],
  ['CERT_REJECTED', 'untrusted'],
  ['INVALID_CA', 'untrusted'],
  ['CERT_HAS_EXPIRED', 'expired'],
  ['CERT_NOT_YET_VALID', 'expired'],
  ['ERR_TLS_CERT_ALTNAME_INVALID', 'hostname_mismatch'],
  ['ERR_SSL_WRONG_VERSION_NUMBER', 'handshake'],
  ['ERR_SSL_PACKET_LENGTH_TOO_LONG', 'handshake'],
  ['EPROTO', 'handshake'],
]);

export class KafkaError extends ServiceError {
  /** The broker's error name, e.g. TOPIC_AUTHORIZATION_FAILED; null when not a protocol error. */
  readonly brokerError: string | null;
  readonly retriable: boolean;
  /** Set when the connection failed because the broker's TLS certificate was refused. */
  readonly tlsFailure: KafkaTlsFailure | null;

  constructor(
    code: ErrorCode,
    message: string,
    brokerError: string | null,
    retriable: boolean,
    cause?: unknown,
  ) {
    super(code, message, { cause });
    this.name = 'KafkaError';
    this.brokerError = brokerError;
    this.retriable = retriable;
    this.tlsFailure = tlsFailureOf(cause);
  }
}

interface KafkaJsErrorShape {
  name?: string;
  code?: unknown;
  type?: string;
  message?: string;
  retriable?: boolean;
  originalError?: unknown;
  cause?: unknown;
  errors?: unknown[];
}

const AUTHORIZATION_ERRORS = new Set([
  'TOPIC_AUTHORIZATION_FAILED',
  'GROUP_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
  'DELEGATION_TOKEN_AUTHORIZATION_FAILED',
]);

/** Broker answers that say the caller's request was wrong: a 4xx, never a 5xx (issue 9). */
const CALLER_ERRORS = new Set([
  'INVALID_TOPIC_EXCEPTION',
  'INVALID_REQUEST',
  'MESSAGE_TOO_LARGE',
  'RECORD_LIST_TOO_LARGE',
  'INVALID_RECORD',
  'INVALID_PARTITIONS',
  'INVALID_REPLICATION_FACTOR',
  'INVALID_REPLICA_ASSIGNMENT',
  'INVALID_CONFIG',
  'POLICY_VIOLATION',
  'INVALID_TIMESTAMP',
  'INVALID_FETCH_SIZE',
  'OFFSET_OUT_OF_RANGE',
  'INVALID_COMMIT_OFFSET_SIZE',
  'INVALID_GROUP_ID',
  'INVALID_SESSION_TIMEOUT',
]);

const CONNECTION_ERRORS = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSNoBrokerAvailableError',
  'KafkaJSBrokerNotFound',
  'KafkaJSRequestTimeoutError',
  'KafkaJSTimeout',
]);

/**
 * The TLS reason in a kafkajs error chain (its connection errors keep the socket's `code`), or
 * null when the failure was not about the broker's certificate or the TLS handshake.
 */
export function tlsFailureOf(err: unknown): KafkaTlsFailure | null {
  const pending: unknown[] = [err];
  for (let seen = 0; pending.length > 0 && seen < 32; seen++) {
    const current = pending.shift();
    if (typeof current !== 'object' || current === null) continue;
    const shape = current as KafkaJsErrorShape;
    if (typeof shape.code === 'string') {
      const failure = TLS_CODES.get(shape.code);
      if (failure !== undefined) return failure;
    }
    pending.push(shape.originalError, shape.cause, ...(Array.isArray(shape.errors) ? shape.errors : []));
  }
  return null;
}

/** The innermost protocol error kafkajs wrapped (retries and aggregates hide it). */
function innermost(err: KafkaJsErrorShape): KafkaJsErrorShape {
  let current = err;
  for (let depth = 0; depth < 8; depth++) {
    if (current.type) return current;
    const next = (current.originalError ?? current.cause ?? current.errors?.[0]) as
      | KafkaJsErrorShape
      | undefined;
    if (!next || typeof next !== 'object') return current;
    current = next;
  }
  return current;
}

/** Our OAUTHBEARER refusal, wherever kafkajs's retries and aggregates put it. */
function findTokenRejection(err: KafkaJsErrorShape): (Error & { brokerReason: string }) | undefined {
  const queue: unknown[] = [err];
  for (let seen = 0; queue.length > 0 && seen < 16; seen++) {
    const current = queue.shift();
    if (typeof current !== 'object' || current === null) continue;
    if (isTokenRejection(current)) return current;
    const shape = current as KafkaJsErrorShape;
    queue.push(shape.originalError, shape.cause, ...(shape.errors ?? []));
  }
  return undefined;
}

/** Translates anything kafkajs threw into a KafkaError (already-translated errors pass through). */
export function translateKafkaError(err: unknown): KafkaError {
  if (err instanceof KafkaError) return err;
  if (err instanceof ServiceError) return new KafkaError(err.code, err.message, null, false, err);
  const shape = (
    typeof err === 'object' && err !== null ? err : { message: String(err) }
  ) as KafkaJsErrorShape;
  const rejection = findTokenRejection(shape);
  if (rejection !== undefined) {
    // The broker refused a token we verified (other audience, issuer or keys): the caller's
    // credentials, not an outage, so 401 and never a retry (issue 11).
    return new KafkaError(
      'KAFKA_TOKEN_REJECTED',
      rejection.message,
      'SASL_AUTHENTICATION_FAILED',
      false,
      err,
    );
  }
  const inner = innermost(shape);
  const type = inner.type ?? null;
  const message = inner.message ?? shape.message ?? 'Kafka error';
  if (type && AUTHORIZATION_ERRORS.has(type))
    return new KafkaError('KAFKA_AUTHZ_FAILED', message, type, false, err);
  if (type === 'SASL_AUTHENTICATION_FAILED' || inner.name === 'KafkaJSSASLAuthenticationError') {
    return new KafkaError('KAFKA_AUTH_FAILED', message, type, false, err);
  }
  if (type && CALLER_ERRORS.has(type))
    return new KafkaError('KAFKA_REQUEST_INVALID', message, type, false, err);
  if (type) return new KafkaError('KAFKA_ERROR', message, type, inner.retriable ?? false, err);
  if (CONNECTION_ERRORS.has(inner.name ?? '') || CONNECTION_ERRORS.has(shape.name ?? '')) {
    return new KafkaError('KAFKA_UNAVAILABLE', message, null, true, err);
  }
  if (shape.name === 'KafkaJSNumberOfRetriesExceeded' || shape.name === 'KafkaJSNonRetriableError') {
    // After failed retries without a protocol error: the broker could not be reached, or it
    // closed the connection (which is also how kafkajs 2.2.4 sees a refused OAUTHBEARER token).
    return new KafkaError('KAFKA_UNAVAILABLE', message, null, true, err);
  }
  return new KafkaError('KAFKA_ERROR', message, null, false, err);
}

/** True for a broker answer that a topic or partition does not exist. */
export function isUnknownTopic(err: KafkaError): boolean {
  return err.brokerError === 'UNKNOWN_TOPIC_OR_PARTITION' || err.brokerError === 'UNKNOWN_TOPIC_ID';
}

/** Kafka errors as ServiceErrors with our codes; an unknown topic or partition is TOPIC_NOT_FOUND. */
export function toServiceError(err: unknown): ServiceError {
  if (err instanceof ServiceError && !(err instanceof KafkaError)) return err;
  const translated = translateKafkaError(err);
  if (isUnknownTopic(translated)) {
    return new KafkaError('TOPIC_NOT_FOUND', translated.message, translated.brokerError, false, err);
  }
  return translated;
}
