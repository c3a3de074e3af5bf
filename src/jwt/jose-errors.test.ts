import assert from 'node:assert/strict';
import { errors } from 'jose';
import type { ErrorCode } from '../errors.ts';
import { ServiceError } from '../errors.ts';
import { mapVerifyError } from './jose-errors.ts';

const claims = { sub: 'secret-subject' };
const claimFailure = (claim: string, reason: string) =>
  new errors.JWTClaimValidationFailed('x', claims, claim, reason);

describe('mapVerifyError', () => {
  const cases: Array<[name: string, err: unknown, code: ErrorCode]> = [
    ['an expired token', new errors.JWTExpired('x', claims, 'exp', 'check_failed'), 'JWT_EXPIRED'],
    ['nbf in the future', claimFailure('nbf', 'check_failed'), 'JWT_NOT_YET_VALID'],
    ['iat in the future', claimFailure('iat', 'check_failed'), 'JWT_NOT_YET_VALID'],
    ['a wrong audience', claimFailure('aud', 'check_failed'), 'JWT_AUDIENCE_MISMATCH'],
    ['a missing audience', claimFailure('aud', 'missing'), 'JWT_AUDIENCE_MISMATCH'],
    ['a wrong issuer', claimFailure('iss', 'check_failed'), 'JWT_ISSUER_UNTRUSTED'],
    ['a wrong typ', claimFailure('typ', 'check_failed'), 'JWT_TYPE_INVALID'],
    ['a missing exp', claimFailure('exp', 'missing'), 'JWT_CLAIM_INVALID'],
    ['a non-numeric exp', claimFailure('exp', 'invalid'), 'JWT_CLAIM_INVALID'],
    ['a non-numeric nbf', claimFailure('nbf', 'invalid'), 'JWT_CLAIM_INVALID'],
    ['a bad signature', new errors.JWSSignatureVerificationFailed(), 'JWT_SIGNATURE_INVALID'],
    ['no matching key', new errors.JWKSNoMatchingKey(), 'JWT_KEY_UNKNOWN'],
    ['several matching keys', new errors.JWKSMultipleMatchingKeys(), 'JWT_KEY_UNKNOWN'],
    ['a JWKS timeout', new errors.JWKSTimeout(), 'JWKS_UNAVAILABLE'],
    ['a disallowed algorithm', new errors.JOSEAlgNotAllowed('x'), 'JWT_ALG_NOT_ALLOWED'],
    ['an invalid JWS', new errors.JWSInvalid('x'), 'JWT_INVALID'],
    ['an invalid JWT', new errors.JWTInvalid('x'), 'JWT_INVALID'],
    ['an invalid JWKS (the IdP, not the caller)', new errors.JWKSInvalid('x'), 'INTERNAL'],
    ['a generic jose error', new errors.JOSEError('x'), 'INTERNAL'],
    ['a TypeError', new TypeError('x'), 'INTERNAL'],
    ['a Node system error', Object.assign(new Error('x'), { code: 'ECONNRESET' }), 'INTERNAL'],
    ['a thrown string', 'boom', 'INTERNAL'],
    ['one of our own errors', new ServiceError('JWKS_UNAVAILABLE', 'no keys'), 'JWKS_UNAVAILABLE'],
  ];
  for (const [name, err, code] of cases) {
    it(`maps ${name} to ${code}`, () => {
      assert.equal(mapVerifyError(err).code, code);
    });
  }

  it('never copies the claims from a jose error into the reason', () => {
    for (const [, err] of cases) assert.ok(!mapVerifyError(err).reason.includes('secret-subject'));
  });
});
