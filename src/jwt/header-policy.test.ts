import assert from 'node:assert/strict';
import type { ErrorCode } from '../errors.ts';
import { checkAlgorithm, checkProtectedHeader } from './header-policy.ts';

describe('checkProtectedHeader', () => {
  const accepted: Array<[name: string, header: Record<string, unknown>]> = [
    ['RS256 with a kid', { alg: 'RS256', kid: 'rsa-1' }],
    ['no kid at all', { alg: 'ES256' }],
    ['a kid of exactly 256 characters', { alg: 'RS256', kid: 'k'.repeat(256) }],
    [
      'a kid with path characters (only ever compared for equality)',
      { alg: 'RS256', kid: '../../etc/passwd' },
    ],
    ['a jku header (ignored, never fetched)', { alg: 'RS256', jku: 'https://attacker.example/jwks' }],
    ['an embedded jwk (ignored, never trusted)', { alg: 'RS256', jwk: { kty: 'RSA', n: 'x', e: 'AQAB' } }],
    ['a typ of at+jwt', { alg: 'RS256', typ: 'at+jwt' }],
    ['a cty that is not JWT', { alg: 'RS256', cty: 'json' }],
  ];
  for (const [name, header] of accepted) {
    it(`accepts ${name}`, () => {
      assert.deepEqual(checkProtectedHeader(header), { ok: true });
    });
  }

  const refused: Array<[name: string, header: Record<string, unknown>, code: ErrorCode]> = [
    ['alg none', { alg: 'none' }, 'JWT_ALG_NOT_ALLOWED'],
    ['alg NONE in capitals', { alg: 'NONE' }, 'JWT_ALG_NOT_ALLOWED'],
    ['HS256', { alg: 'HS256', kid: 'rsa-1' }, 'JWT_ALG_NOT_ALLOWED'],
    ['HS512', { alg: 'HS512' }, 'JWT_ALG_NOT_ALLOWED'],
    ['a missing alg', { kid: 'rsa-1' }, 'JWT_INVALID'],
    ['a non-string alg', { alg: ['RS256'] }, 'JWT_INVALID'],
    ['an empty alg', { alg: '' }, 'JWT_INVALID'],
    ['any crit', { alg: 'RS256', crit: ['exp'], exp: 1 }, 'JWT_UNSUPPORTED'],
    ['an empty crit', { alg: 'RS256', crit: [] }, 'JWT_UNSUPPORTED'],
    ['a JWE header', { alg: 'RSA-OAEP', enc: 'A256GCM' }, 'JWT_UNSUPPORTED'],
    ['a nested JWT (cty JWT)', { alg: 'RS256', cty: 'JWT' }, 'JWT_UNSUPPORTED'],
    ['a nested JWT (cty application/jwt)', { alg: 'RS256', cty: 'application/JWT' }, 'JWT_UNSUPPORTED'],
    ['a kid over 256 characters', { alg: 'RS256', kid: 'k'.repeat(257) }, 'JWT_INVALID'],
    ['an empty kid', { alg: 'RS256', kid: '' }, 'JWT_INVALID'],
    ['a numeric kid', { alg: 'RS256', kid: 7 }, 'JWT_INVALID'],
    [
      'a kid with a newline (log injection)',
      { alg: 'RS256', kid: 'rsa-1\nlevel=info msg=allowed' },
      'JWT_INVALID',
    ],
    ['a kid with a NUL byte', { alg: 'RS256', kid: 'rsa-1\u0000' }, 'JWT_INVALID'],
    ['a kid with non-ASCII characters', { alg: 'RS256', kid: 'rsa‐1' }, 'JWT_INVALID'],
  ];
  for (const [name, header, code] of refused) {
    it(`refuses ${name} with ${code}`, () => {
      const verdict = checkProtectedHeader(header);
      assert.equal(verdict.ok, false);
      assert.equal(!verdict.ok && verdict.code, code);
    });
  }
});

describe('checkAlgorithm', () => {
  const allowed = new Set(['RS256']);

  it("accepts an algorithm on the issuer's list", () => {
    assert.deepEqual(checkAlgorithm({ alg: 'RS256' }, allowed), { ok: true });
  });

  it("refuses an asymmetric algorithm that is not on the issuer's list", () => {
    const verdict = checkAlgorithm({ alg: 'ES256' }, allowed);
    assert.equal(!verdict.ok && verdict.code, 'JWT_ALG_NOT_ALLOWED');
  });
});
