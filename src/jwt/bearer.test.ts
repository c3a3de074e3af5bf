import assert from 'node:assert/strict';
import type { ErrorCode } from '../errors.ts';
import { checkCompactShape, extractBearer } from './bearer.ts';

const JWS = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl';
const MAX = 512;

describe('extractBearer', () => {
  const accepted: Array<[name: string, input: string | string[], token: string]> = [
    ['the canonical form', `Bearer ${JWS}`, JWS],
    ['a lowercase scheme', `bearer ${JWS}`, JWS],
    ['a shouting scheme', `BEARER ${JWS}`, JWS],
    ['several spaces after the scheme', `Bearer   ${JWS}`, JWS],
    ['trailing whitespace', `Bearer ${JWS} \t`, JWS],
    ['a single-element header list', [`Bearer ${JWS}`], JWS],
    [
      'an empty signature (left for the verifier to refuse by alg)',
      'Bearer eyJhbGciOiJub25lIn0.e30.',
      'eyJhbGciOiJub25lIn0.e30.',
    ],
    [
      'a token exactly at the size cap',
      `Bearer ${'a'.repeat(MAX - 6)}.bb.cc`,
      `${'a'.repeat(MAX - 6)}.bb.cc`,
    ],
  ];
  for (const [name, input, token] of accepted) {
    it(`accepts ${name}`, () => {
      assert.deepEqual(extractBearer(input, MAX), { ok: true, token });
    });
  }

  const refused: Array<[name: string, input: string | string[] | undefined, code: ErrorCode]> = [
    ['no header', undefined, 'TOKEN_MISSING'],
    ['an empty header list', [], 'TOKEN_MISSING'],
    ['two Authorization headers', [`Bearer ${JWS}`, `Bearer ${JWS}`], 'TOKEN_MALFORMED'],
    [
      'a comma-joined double header (how Envoy passes repeats)',
      `Bearer ${JWS},Bearer ${JWS}`,
      'TOKEN_MALFORMED',
    ],
    ['a comma-joined double header with a space', `Bearer ${JWS}, Bearer ${JWS}`, 'TOKEN_MALFORMED'],
    ['the Basic scheme', 'Basic YWxpY2U6c2VjcmV0', 'TOKEN_MALFORMED'],
    ['another scheme that starts like bearer', `Bearerx ${JWS}`, 'TOKEN_MALFORMED'],
    ['no space after the scheme', `Bearer${JWS}`, 'TOKEN_MALFORMED'],
    ['a tab after the scheme', `Bearer\t${JWS}`, 'TOKEN_MALFORMED'],
    ['an empty header value', '', 'TOKEN_MALFORMED'],
    ['an empty bearer', 'Bearer', 'TOKEN_MALFORMED'],
    ['a bearer of spaces only', 'Bearer    ', 'TOKEN_MALFORMED'],
    ['a token one byte over the cap', `Bearer ${'a'.repeat(MAX - 5)}.bb.cc`, 'TOKEN_TOO_LARGE'],
    ['a huge header', `Bearer ${'a'.repeat(100_000)}`, 'TOKEN_TOO_LARGE'],
    ['an opaque token', 'Bearer 2YotnFZFEjr1zCsicMWpAA', 'TOKEN_MALFORMED'],
    ['two segments', 'Bearer eyJhbGciOiJSUzI1NiJ9.e30', 'TOKEN_MALFORMED'],
    ['four segments', `Bearer ${JWS}.e30`, 'TOKEN_MALFORMED'],
    ['six segments', `Bearer ${JWS}.e30.e30.e30`, 'TOKEN_MALFORMED'],
    [
      'a JWE (five segments)',
      'Bearer eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..aXY.Y2lwaGVy.dGFn',
      'JWT_UNSUPPORTED',
    ],
    ['an empty header segment', 'Bearer .e30.c2ln', 'TOKEN_MALFORMED'],
    ['an empty payload segment (detached payload)', 'Bearer eyJhbGciOiJSUzI1NiJ9..c2ln', 'TOKEN_MALFORMED'],
    ['standard base64 characters', 'Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2+n/A', 'TOKEN_MALFORMED'],
    ['base64 padding', 'Bearer eyJhbGciOiJSUzI1NiJ9.e30=.c2ln', 'TOKEN_MALFORMED'],
    ['an impossible base64url length', 'Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2lnb', 'TOKEN_MALFORMED'],
    ['a quoted token', `Bearer "${JWS}"`, 'TOKEN_MALFORMED'],
    ['non-ASCII characters', 'Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2ñn', 'TOKEN_MALFORMED'],
    ['a newline inside the token', 'Bearer eyJhbGciOiJSUzI1NiJ9.e30\n.c2ln', 'TOKEN_MALFORMED'],
  ];
  for (const [name, input, code] of refused) {
    it(`refuses ${name} with ${code}`, () => {
      assert.deepEqual(extractBearer(input, MAX), { ok: false, code });
    });
  }
});

describe('checkCompactShape', () => {
  it('accepts three base64url segments', () => {
    assert.equal(checkCompactShape(JWS), undefined);
  });

  it('refuses a JWE with JWT_UNSUPPORTED even when segments are empty', () => {
    assert.equal(checkCompactShape('eyJlbmMiOiJ4In0....'), 'JWT_UNSUPPORTED');
  });
});
