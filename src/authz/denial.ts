import { CODE_INFO, type ErrorCode } from '../errors.ts';
import type { CheckOutcome } from './check.ts';

/**
 * What a denied client receives, in the REST proxy's error format
 * (`{"error_code": 40101, "message": "..."}`), with an RFC 6750 challenge on 401s.
 * Messages say what was expected and never echo a token or its claims.
 */

export interface Denial {
  readonly status: number;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly body: string;
}

const MESSAGES: Readonly<Record<ErrorCode, string>> = Object.freeze({
  TOKEN_MISSING: 'Authentication required: send Authorization: Bearer <access token>',
  TOKEN_MALFORMED: 'Expected exactly one Authorization: Bearer header with a JWT access token',
  TOKEN_TOO_LARGE: 'The access token is larger than this gateway accepts',
  JWT_INVALID: 'The access token is not a valid JWT',
  JWT_SIGNATURE_INVALID: 'The access token signature does not verify',
  JWT_EXPIRED: 'The access token expired',
  JWT_NOT_YET_VALID: 'The access token is not valid yet',
  JWT_ISSUER_UNTRUSTED: 'The access token comes from an issuer this gateway does not trust',
  JWT_AUDIENCE_MISMATCH: 'The access token is not meant for this audience',
  JWT_ALG_NOT_ALLOWED: 'The access token uses a signing algorithm this gateway does not accept',
  JWT_KEY_UNKNOWN: 'The access token is signed by a key the issuer does not publish',
  JWT_TYPE_INVALID: 'The access token has the wrong type (typ)',
  JWT_UNSUPPORTED: 'The access token uses JWT features this gateway does not accept',
  JWT_CLAIM_INVALID: 'The access token lacks a required claim or has one of the wrong type',
  PRINCIPAL_MISSING: 'The access token does not name a principal',
  JWT_CERT_BINDING_FAILED:
    'The access token is bound to a client certificate this connection did not present',
  JWT_SCOPE_MISSING: 'The access token lacks a required scope',
  USER_UNKNOWN: 'The principal is not a known service user',
  ACL_DENIED: 'Not authorized for this operation',
  ROUTE_UNKNOWN: 'HTTP 404 Not Found',
  JWKS_UNAVAILABLE: "The issuer's signing keys cannot be fetched right now",
  KAFKA_UNAVAILABLE: 'Kafka is unavailable',
  KAFKA_AUTH_FAILED: 'Kafka refused the credentials',
  KAFKA_AUTHZ_FAILED: 'Kafka refused the operation',
  KAFKA_ERROR: 'Kafka error',
  LIMIT_REACHED: 'A limit was reached',
  INTERNAL: 'Internal server error',
  TOPIC_NOT_FOUND: 'Topic not found',
  PARTITION_NOT_FOUND: 'Partition not found',
  CONSUMER_NOT_FOUND: 'Consumer instance not found',
  CONSUMER_STATE_INVALID: 'Illegal state for this consumer instance',
  CONSUMER_EXISTS: 'Consumer instance with the specified name already exists',
});

const JSON_TYPE = ['content-type', 'application/json'] as const;

function quote(text: string): string {
  return `"${text.replace(/["\\]/g, '')}"`;
}

/** Constant answers, built once: only ACL and 405 denials carry request-specific text. */
const STATIC: ReadonlyMap<ErrorCode, Denial> = new Map(
  (Object.keys(MESSAGES) as ErrorCode[]).map((code) => [
    code,
    build(code, CODE_INFO[code].http, MESSAGES[code]),
  ]),
);

function build(code: ErrorCode, status: number, message: string): Denial {
  const info = CODE_INFO[code];
  const headers: Array<readonly [string, string]> = [JSON_TYPE];
  if (code === 'TOKEN_MISSING') {
    // RFC 6750 §3.1: no error code when the request carried no credentials at all.
    headers.push(['www-authenticate', 'Bearer realm="kafka-rest"']);
  } else if (info.authentication) {
    headers.push([
      'www-authenticate',
      `Bearer realm="kafka-rest", error="invalid_token", error_description=${quote(message)}`,
    ]);
  } else if (code === 'JWT_SCOPE_MISSING') {
    headers.push(['www-authenticate', 'Bearer realm="kafka-rest", error="insufficient_scope"']);
  }
  const errorCode = code === 'ROUTE_UNKNOWN' ? status : info.restCode;
  return { status, headers, body: JSON.stringify({ error_code: errorCode, message }) };
}

/** The answer for a denied outcome. */
export function denialFor(outcome: CheckOutcome): Denial {
  const code = outcome.code ?? 'INTERNAL';
  if (code === 'ROUTE_UNKNOWN' && outcome.status === 405) {
    return build(code, 405, 'HTTP 405 Method Not Allowed');
  }
  if (code === 'ACL_DENIED' && outcome.denied) {
    return build(code, 403, `Not authorized: ${outcome.reason.replace(/^not allowed: /, '')}`);
  }
  return STATIC.get(code) ?? STATIC.get('INTERNAL')!;
}
