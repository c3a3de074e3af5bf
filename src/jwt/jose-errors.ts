import type { ErrorCode } from '../errors.ts';
import { isServiceError } from '../errors.ts';

/**
 * jose's error codes translated into ours. This is the boundary: no jose
 * error, message or payload (which carries the claims) travels past it.
 */

export interface MappedFailure {
  readonly code: ErrorCode;
  readonly reason: string;
}

function failure(code: ErrorCode, reason: string): MappedFailure {
  return Object.freeze({ code, reason });
}

const BY_JOSE_CODE: ReadonlyMap<string, MappedFailure> = new Map([
  ['ERR_JWT_EXPIRED', failure('JWT_EXPIRED', 'the token has expired')],
  [
    'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
    failure('JWT_SIGNATURE_INVALID', 'the signature does not verify'),
  ],
  ['ERR_JWKS_NO_MATCHING_KEY', failure('JWT_KEY_UNKNOWN', "no key in the issuer's JWKS matches the token")],
  [
    'ERR_JWKS_MULTIPLE_MATCHING_KEYS',
    failure('JWT_KEY_UNKNOWN', 'the token matches several keys; expected a kid'),
  ],
  ['ERR_JWKS_TIMEOUT', failure('JWKS_UNAVAILABLE', "the issuer's JWKS could not be fetched in time")],
  [
    'ERR_JOSE_ALG_NOT_ALLOWED',
    failure('JWT_ALG_NOT_ALLOWED', 'the algorithm is not allowed for this issuer'),
  ],
  ['ERR_JWS_INVALID', failure('JWT_INVALID', 'expected a well-formed signed JWT')],
  ['ERR_JWT_INVALID', failure('JWT_INVALID', 'expected a well-formed signed JWT')],
]);

const TYPE_INVALID = failure('JWT_TYPE_INVALID', 'the "typ" header is not the required token type');
const NOT_YET_VALID = failure('JWT_NOT_YET_VALID', 'the token is not valid yet (nbf or iat in the future)');
const AUDIENCE_MISMATCH = failure('JWT_AUDIENCE_MISMATCH', 'the token is not meant for this audience');
const ISSUER_UNTRUSTED = failure('JWT_ISSUER_UNTRUSTED', 'the issuer is not trusted');
const CLAIM_INVALID = failure('JWT_CLAIM_INVALID', 'expected exp and numeric date claims');
const INTERNAL = failure('INTERNAL', 'unexpected error while verifying the token');

/**
 * Maps anything jwtVerify (or our key resolver) threw to a code and a short
 * reason that names no token content. Unknown errors map to INTERNAL.
 */
export function mapVerifyError(err: unknown): MappedFailure {
  if (isServiceError(err)) return failure(err.code, err.message);
  const code = joseCode(err);
  if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED')
    return mapClaimFailure(err as { claim?: unknown; reason?: unknown });
  return (code === undefined ? undefined : BY_JOSE_CODE.get(code)) ?? INTERNAL;
}

function mapClaimFailure(err: { claim?: unknown; reason?: unknown }): MappedFailure {
  if (err.claim === 'typ') return TYPE_INVALID;
  // jose's reasons: 'missing', 'invalid' (wrong type) and 'check_failed'.
  if (err.reason === 'invalid') return CLAIM_INVALID;
  switch (err.claim) {
    case 'nbf':
    case 'iat':
      return NOT_YET_VALID;
    case 'aud':
      return AUDIENCE_MISMATCH;
    case 'iss':
      return ISSUER_UNTRUSTED;
    default:
      return CLAIM_INVALID;
  }
}

function joseCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const { code } = err as { code?: unknown };
  return typeof code === 'string' ? code : undefined;
}
