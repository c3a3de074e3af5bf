/**
 * The error-code catalogue, the one source of every non-success answer. Each code carries the
 * HTTP status the client sees, the REST proxy's `error_code` (reference section 4), the
 * google.rpc status an ext_authz denial carries, and the default message. Codes are API: they
 * appear in logs, in Envoy deny headers, in REST error bodies and as the `reason` label on
 * metrics. Never rename or reuse one; add new ones at the end of their group.
 */

/** google.rpc.Code values (only the ones the catalogue uses). */
export const RPC = Object.freeze({
  OK: 0,
  INVALID_ARGUMENT: 3,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
});

/**
 * How an error's own message reaches the client:
 * - `own`: the thrown message is the answer (written for clients; the default when there is none);
 * - `hidden`: the default message only; the thrown one (a dependency's words) goes to logs;
 * - `suffix`: `<default>: <thrown message>`.
 */
export type DetailPolicy = 'own' | 'hidden' | 'suffix';

export interface CodeInfo {
  /** HTTP status the client sees. */
  readonly http: number;
  /** `error_code` in the REST proxy's JSON error body. */
  readonly restCode: number;
  /** google.rpc status code of an ext_authz denial with this code (Envoy: non-zero denies). */
  readonly grpc: number;
  /** The answer's message when the error carries none of its own (or hides it). */
  readonly message: string;
  readonly detail: DetailPolicy;
  /** True when the failure is about who the caller is (401 + WWW-Authenticate). */
  readonly authentication: boolean;
  /** Seconds after which a retry may succeed (`Retry-After`), for failures that are not the caller's. */
  readonly retryAfterSec?: number;
}

function authn(message: string): CodeInfo {
  return {
    http: 401,
    restCode: 40101,
    grpc: RPC.UNAUTHENTICATED,
    message,
    detail: 'hidden',
    authentication: true,
  };
}

function authz(message: string, detail: DetailPolicy = 'hidden'): CodeInfo {
  return { http: 403, restCode: 40301, grpc: RPC.PERMISSION_DENIED, message, detail, authentication: false };
}

function answer(
  http: number,
  restCode: number,
  grpc: number,
  message: string,
  detail: DetailPolicy = 'own',
): CodeInfo {
  return { http, restCode, grpc, message, detail, authentication: false };
}

/** A failure that passes: the answer carries `Retry-After: sec`. */
function retryable(info: CodeInfo, sec: number): CodeInfo {
  return { ...info, retryAfterSec: sec };
}

const CATALOGUE = {
  // Authentication (401): the caller could not be identified.
  TOKEN_MISSING: authn('Authentication required: send Authorization: Bearer <access token>'),
  TOKEN_MALFORMED: authn('Expected exactly one Authorization: Bearer header with a JWT access token'),
  TOKEN_TOO_LARGE: authn('The access token is larger than this gateway accepts'),
  JWT_INVALID: authn('The access token is not a valid JWT'),
  JWT_SIGNATURE_INVALID: authn('The access token signature does not verify'),
  JWT_EXPIRED: authn('The access token expired'),
  JWT_NOT_YET_VALID: authn('The access token is not valid yet'),
  JWT_ISSUER_UNTRUSTED: authn('The access token comes from an issuer this gateway does not trust'),
  JWT_AUDIENCE_MISMATCH: authn('The access token is not meant for this audience'),
  JWT_ALG_NOT_ALLOWED: authn('The access token uses a signing algorithm this gateway does not accept'),
  JWT_KEY_UNKNOWN: authn('The access token is signed by a key the issuer does not publish'),
  JWT_TYPE_INVALID: authn('The access token has the wrong type (typ)'),
  JWT_UNSUPPORTED: authn('The access token uses JWT features this gateway does not accept'),
  JWT_CLAIM_INVALID: authn('The access token lacks a required claim or has one of the wrong type'),
  PRINCIPAL_MISSING: authn('The access token does not name a principal'),
  // RFC 8705: a certificate-bound token presented without (or with another) client certificate.
  JWT_CERT_BINDING_FAILED: authn(
    'The access token is bound to a client certificate this connection did not present',
  ),
  // The broker refused a token we accepted (its audience, issuer or keys differ; issue 11).
  KAFKA_TOKEN_REJECTED: authn('Kafka refused the access token'),
  // Authorization (403): identified, but not allowed.
  JWT_SCOPE_MISSING: authz('The access token lacks a required scope'),
  USER_UNKNOWN: authz('The principal is not a known service user'),
  // The detail names the operation and resource refused: `Not authorized: WRITE on TOPIC "x"`.
  ACL_DENIED: authz('Not authorized', 'suffix'),
  // Routing.
  ROUTE_UNKNOWN: answer(404, 404, RPC.PERMISSION_DENIED, 'HTTP 404 Not Found', 'hidden'),
  METHOD_NOT_ALLOWED: answer(405, 405, RPC.PERMISSION_DENIED, 'HTTP 405 Method Not Allowed', 'hidden'),
  // Dependencies and internals (fail closed).
  // Retryable: the keys are fetched again within seconds (jwt.jwksRefreshFloorSec).
  JWKS_UNAVAILABLE: retryable(
    answer(503, 50301, RPC.UNAVAILABLE, "The issuer's signing keys cannot be fetched right now", 'hidden'),
    2,
  ),
  // A kid not known yet while the JWKS cannot be fetched: maybe a new key, so retry, not 401 (issue 11).
  JWKS_REFRESH_FAILED: retryable(
    answer(
      503,
      50301,
      RPC.UNAVAILABLE,
      "The access token is signed by a key not known yet, and the issuer's keys cannot be fetched right now",
      'hidden',
    ),
    2,
  ),
  // Retryable: a broker restarting or failing over is back (or replaced) within seconds.
  KAFKA_UNAVAILABLE: retryable(answer(503, 503, RPC.UNAVAILABLE, 'Service unavailable', 'hidden'), 2),
  // Karapace answers a refused Kafka login or operation with a bare "Forbidden".
  KAFKA_AUTH_FAILED: answer(403, 40101, RPC.PERMISSION_DENIED, 'Forbidden', 'hidden'),
  KAFKA_AUTHZ_FAILED: answer(403, 40301, RPC.PERMISSION_DENIED, 'Forbidden', 'hidden'),
  KAFKA_ERROR: answer(500, 50002, RPC.UNAVAILABLE, 'Kafka error', 'suffix'),
  // The broker refused what the caller asked for (invalid topic, request, or record too large).
  KAFKA_REQUEST_INVALID: answer(
    422,
    422,
    RPC.INVALID_ARGUMENT,
    'Kafka refused the request as invalid',
    'suffix',
  ),
  LIMIT_REACHED: answer(429, 42901, RPC.PERMISSION_DENIED, 'A limit was reached'),
  INTERNAL: answer(500, 500, RPC.UNAVAILABLE, 'Internal server error', 'hidden'),
  // Too much work in flight: refused before any work (issue 14). The REST process sends
  // rest.overloadRetryAfterSec instead of this default.
  OVERLOADED: retryable(
    answer(
      503,
      503,
      RPC.UNAVAILABLE,
      'Too many requests in flight; retry after the time in Retry-After',
      'hidden',
    ),
    1,
  ),
  // REST resources and consumer state.
  TOPIC_NOT_FOUND: answer(404, 40401, RPC.NOT_FOUND, 'Topic not found'),
  PARTITION_NOT_FOUND: answer(404, 40402, RPC.NOT_FOUND, 'Partition not found'),
  CONSUMER_NOT_FOUND: answer(404, 40403, RPC.NOT_FOUND, 'Consumer instance not found'),
  CONSUMER_STATE_INVALID: answer(
    409,
    40903,
    RPC.FAILED_PRECONDITION,
    'Illegal state for this consumer instance',
  ),
  CONSUMER_EXISTS: answer(
    409,
    40902,
    RPC.ALREADY_EXISTS,
    'Consumer instance with the specified name already exists',
  ),
  // Karapace's 40403 for an unknown topic on GET /topics/{topic} (not 40401 as elsewhere).
  TOPIC_PARTITION_UNKNOWN: answer(404, 40403, RPC.NOT_FOUND, 'Unknown topic or partition'),
  // v3 resources (cluster, topic, config) that do not exist: a plain 404.
  RESOURCE_NOT_FOUND: answer(404, 404, RPC.NOT_FOUND, 'HTTP 404 Not Found'),
  TOPIC_EXISTS: answer(400, 40002, RPC.ALREADY_EXISTS, 'Topic already exists'),
  // REST request shape (reference sections 2-4).
  REQUEST_INVALID: answer(400, 400, RPC.INVALID_ARGUMENT, 'Malformed request'),
  REQUEST_TOO_LARGE: answer(413, 413, RPC.INVALID_ARGUMENT, 'HTTP Request Entity Too Large'),
  MEDIA_TYPE_UNSUPPORTED: answer(415, 415, RPC.INVALID_ARGUMENT, 'HTTP 415 Unsupported Media Type'),
  NOT_ACCEPTABLE: answer(406, 406, RPC.INVALID_ARGUMENT, 'HTTP 406 Not Acceptable'),
  FORMAT_MISMATCH: answer(
    406,
    40601,
    RPC.INVALID_ARGUMENT,
    'The requested embedded data format does not match the deserializer for this consumer instance',
  ),
  REQUEST_UNPROCESSABLE: answer(422, 422, RPC.INVALID_ARGUMENT, 'Invalid request format'),
  CONSUMER_CONFIG_INVALID: answer(422, 42204, RPC.INVALID_ARGUMENT, 'Invalid consumer configuration'),
  SCHEMA_INVALID: answer(422, 42205, RPC.INVALID_ARGUMENT, 'Invalid schema'),
  // Embedded schema formats (reference section 7.4): a side with data needs its schema.
  KEY_SCHEMA_MISSING: answer(
    422,
    42201,
    RPC.INVALID_ARGUMENT,
    'Request includes keys but does not include key schema',
  ),
  VALUE_SCHEMA_MISSING: answer(
    422,
    42202,
    RPC.INVALID_ARGUMENT,
    'Request includes values but does not include value schema',
  ),
  // Karapace's answer when the schema registry cannot be reached or refuses the caller.
  SCHEMA_REGISTRY_UNAVAILABLE: answer(408, 40801, RPC.UNAVAILABLE, 'Schema registry error'),
  // Karapace answers a non-integer numeric field, or a negative fetch parameter, with 500.
  FIELD_INVALID: answer(500, 500, RPC.INVALID_ARGUMENT, 'A field has the wrong type'),
  CONSUMER_REQUEST_INVALID: answer(
    500,
    50001,
    RPC.INVALID_ARGUMENT,
    'A required field is missing or invalid',
  ),
} as const satisfies Record<string, CodeInfo>;

export type ErrorCode = keyof typeof CATALOGUE;

export const ERROR_CODES: readonly ErrorCode[] = Object.freeze(Object.keys(CATALOGUE) as ErrorCode[]);

export const CODE_INFO: Readonly<Record<ErrorCode, CodeInfo>> = Object.freeze(CATALOGUE);

/** The message a client sees for `code`, given the error's own message (if any). */
export function answerMessage(code: ErrorCode, detail: string | null | undefined): string {
  const info = CODE_INFO[code];
  if (detail === null || detail === undefined || detail === '' || detail === info.message)
    return info.message;
  if (info.detail === 'hidden') return info.message;
  return info.detail === 'suffix' ? `${info.message}: ${detail}` : detail;
}

/** An expected failure with a stable code. Messages never contain tokens or claim sets. */
export class ServiceError extends Error {
  readonly code: ErrorCode;

  /** `message` defaults to the catalogue's; whether clients see it is the code's `detail` policy. */
  constructor(code: ErrorCode, message?: string, options?: { cause?: unknown }) {
    super(message ?? CODE_INFO[code].message, options);
    this.name = 'ServiceError';
    this.code = code;
  }

  get httpStatus(): number {
    return CODE_INFO[this.code].http;
  }

  /** What the client is told: the catalogue's message and, by the code's policy, ours. */
  get publicMessage(): string {
    return answerMessage(this.code, this.message);
  }
}

export function isServiceError(err: unknown): err is ServiceError {
  return err instanceof ServiceError;
}

/** A coded error as an HTTP answer: status, headers, and the REST proxy's JSON error body. */
export interface ErrorAnswer {
  readonly status: number;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly body: string;
}

const JSON_TYPE = ['content-type', 'application/json'] as const;

function quote(text: string): string {
  return `"${text.replace(/["\\]/g, '')}"`;
}

function buildAnswer(code: ErrorCode, message: string): ErrorAnswer {
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
  if (info.retryAfterSec !== undefined) headers.push(['retry-after', String(info.retryAfterSec)]);
  // Keys in sorted order, as every JSON answer of the REST contract.
  return { status: info.http, headers, body: JSON.stringify({ error_code: info.restCode, message }) };
}

/** Answers without a detail never change: built once. */
const DEFAULT_ANSWERS: ReadonlyMap<ErrorCode, ErrorAnswer> = new Map(
  ERROR_CODES.map((code) => [code, buildAnswer(code, CODE_INFO[code].message)]),
);

/**
 * The answer for `code` with an optional detail (shown per the code's policy), with an RFC 6750
 * challenge on 401s and on a missing scope. Messages never echo a token or its claims.
 */
export function errorAnswer(code: ErrorCode, detail?: string | null): ErrorAnswer {
  const message = answerMessage(code, detail);
  if (message === CODE_INFO[code].message) return DEFAULT_ANSWERS.get(code)!;
  return buildAnswer(code, message);
}
