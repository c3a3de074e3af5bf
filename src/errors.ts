/**
 * The error-code catalogue. Codes are API: they appear in logs, in Envoy deny
 * headers, in REST error bodies and as the `reason` label on metrics. Never rename
 * or reuse one; add new ones at the end of their group.
 */

export const ERROR_CODES = [
  // Authentication (401): the caller could not be identified.
  'TOKEN_MISSING',
  'TOKEN_MALFORMED',
  'TOKEN_TOO_LARGE',
  'JWT_INVALID',
  'JWT_SIGNATURE_INVALID',
  'JWT_EXPIRED',
  'JWT_NOT_YET_VALID',
  'JWT_ISSUER_UNTRUSTED',
  'JWT_AUDIENCE_MISMATCH',
  'JWT_ALG_NOT_ALLOWED',
  'JWT_KEY_UNKNOWN',
  'JWT_TYPE_INVALID',
  'JWT_UNSUPPORTED',
  'JWT_CLAIM_INVALID',
  'PRINCIPAL_MISSING',
  'JWT_CERT_BINDING_FAILED',
  // Authorization (403): identified, but not allowed.
  'JWT_SCOPE_MISSING',
  'USER_UNKNOWN',
  'ACL_DENIED',
  // Routing.
  'ROUTE_UNKNOWN',
  // Dependencies and internals (fail closed).
  'JWKS_UNAVAILABLE',
  'KAFKA_UNAVAILABLE',
  'KAFKA_AUTH_FAILED',
  'KAFKA_AUTHZ_FAILED',
  'KAFKA_ERROR',
  'LIMIT_REACHED',
  'INTERNAL',
  // REST resources and consumer state.
  'TOPIC_NOT_FOUND',
  'PARTITION_NOT_FOUND',
  'CONSUMER_NOT_FOUND',
  'CONSUMER_STATE_INVALID',
  'CONSUMER_EXISTS',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

interface CodeInfo {
  /** HTTP status the client sees. */
  readonly http: number;
  /** `error_code` in the REST proxy's JSON error body. */
  readonly restCode: number;
  /** True when the failure is about who the caller is (401 + WWW-Authenticate). */
  readonly authentication: boolean;
}

const AUTHN: CodeInfo = { http: 401, restCode: 40101, authentication: true };
const AUTHZ: CodeInfo = { http: 403, restCode: 40301, authentication: false };

export const CODE_INFO: Readonly<Record<ErrorCode, CodeInfo>> = Object.freeze({
  TOKEN_MISSING: AUTHN,
  TOKEN_MALFORMED: AUTHN,
  TOKEN_TOO_LARGE: AUTHN,
  JWT_INVALID: AUTHN,
  JWT_SIGNATURE_INVALID: AUTHN,
  JWT_EXPIRED: AUTHN,
  JWT_NOT_YET_VALID: AUTHN,
  JWT_ISSUER_UNTRUSTED: AUTHN,
  JWT_AUDIENCE_MISMATCH: AUTHN,
  JWT_ALG_NOT_ALLOWED: AUTHN,
  JWT_KEY_UNKNOWN: AUTHN,
  JWT_TYPE_INVALID: AUTHN,
  JWT_UNSUPPORTED: AUTHN,
  JWT_CLAIM_INVALID: AUTHN,
  PRINCIPAL_MISSING: AUTHN,
  JWT_CERT_BINDING_FAILED: AUTHN,
  JWT_SCOPE_MISSING: AUTHZ,
  USER_UNKNOWN: AUTHZ,
  ACL_DENIED: AUTHZ,
  ROUTE_UNKNOWN: { http: 404, restCode: 404, authentication: false },
  JWKS_UNAVAILABLE: { http: 503, restCode: 50301, authentication: false },
  KAFKA_UNAVAILABLE: { http: 503, restCode: 503, authentication: false },
  KAFKA_AUTH_FAILED: { http: 403, restCode: 40101, authentication: false },
  KAFKA_AUTHZ_FAILED: AUTHZ,
  KAFKA_ERROR: { http: 500, restCode: 50002, authentication: false },
  LIMIT_REACHED: { http: 429, restCode: 42901, authentication: false },
  INTERNAL: { http: 500, restCode: 500, authentication: false },
  TOPIC_NOT_FOUND: { http: 404, restCode: 40401, authentication: false },
  PARTITION_NOT_FOUND: { http: 404, restCode: 40402, authentication: false },
  CONSUMER_NOT_FOUND: { http: 404, restCode: 40403, authentication: false },
  CONSUMER_STATE_INVALID: { http: 409, restCode: 40903, authentication: false },
  CONSUMER_EXISTS: { http: 409, restCode: 40902, authentication: false },
});

/** An expected failure with a stable code. Messages never contain tokens or claim sets. */
export class ServiceError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ServiceError';
    this.code = code;
  }

  get httpStatus(): number {
    return CODE_INFO[this.code].http;
  }
}

export function isServiceError(err: unknown): err is ServiceError {
  return err instanceof ServiceError;
}
