import assert from 'node:assert/strict';
import type { ResourceRequest } from '../acl/acl-types.ts';
import { CODE_INFO, ERROR_CODES, type ErrorCode } from '../errors.ts';
import type { CheckOutcome } from './check.ts';
import { type Denial, denialFor } from './denial.ts';

function outcome(code: ErrorCode | null, extra: Partial<CheckOutcome> = {}): CheckOutcome {
  return {
    allow: false,
    decidedAllow: false,
    code,
    reason: 'test',
    principal: null,
    issuer: null,
    tokenHash: null,
    expiresAtMs: null,
    route: null,
    status: code === null ? 500 : CODE_INFO[code].http,
    requires: [],
    denied: null,
    matched: [],
    ...extra,
  };
}

function header(denial: Denial, name: string): string | undefined {
  const found = denial.headers.filter(([key]) => key === name);
  assert.ok(found.length <= 1, `${name} appears ${found.length} times`);
  return found[0]?.[1];
}

function body(denial: Denial): { error_code: number; message: string } {
  const parsed = JSON.parse(denial.body) as Record<string, unknown>;
  assert.deepEqual(Object.keys(parsed).sort(), ['error_code', 'message']);
  assert.equal(typeof parsed.error_code, 'number');
  assert.equal(typeof parsed.message, 'string');
  assert.notEqual(parsed.message, '');
  return parsed as { error_code: number; message: string };
}

// RFC 6750 §3: auth-param values are quoted-strings; ours never need escapes.
const CHALLENGE =
  /^Bearer realm="[^"\\]+"(, error="(invalid_token|insufficient_scope)"(, error_description="[^"\\]*")?)?$/;

const AUTHENTICATION_CODES = ERROR_CODES.filter((code) => CODE_INFO[code].authentication);

type Row = readonly [
  name: string,
  input: CheckOutcome,
  status: number,
  restCode: number,
  challenge: string | null,
];

// biome-ignore format: one line per case keeps the table readable
const ROWS: readonly Row[] = [
  ['no token: a bare challenge without an error (RFC 6750 §3.1)', outcome('TOKEN_MISSING'), 401, 40101, 'bare'],
  ...AUTHENTICATION_CODES.filter((code) => code !== 'TOKEN_MISSING').map(
    (code): Row => [`${code}: 401 with invalid_token`, outcome(code), 401, 40101, 'invalid_token'],
  ),
  ['JWT_SCOPE_MISSING: 403 with insufficient_scope', outcome('JWT_SCOPE_MISSING'), 403, 40301, 'insufficient_scope'],
  ['USER_UNKNOWN: 403 without a challenge', outcome('USER_UNKNOWN', { principal: 'stranger' }), 403, 40301, null],
  ['ACL_DENIED without a named request: 403', outcome('ACL_DENIED', { principal: 'mallory' }), 403, 40301, null],
  ['ROUTE_UNKNOWN: 404 in the REST proxy shape', outcome('ROUTE_UNKNOWN'), 404, 404, null],
  ['ROUTE_UNKNOWN on a known path: 405', outcome('ROUTE_UNKNOWN', { status: 405 }), 405, 405, null],
  ['JWKS_UNAVAILABLE: 503', outcome('JWKS_UNAVAILABLE'), 503, 50301, null],
  ['JWKS_REFRESH_FAILED: 503, not 401 (issue 11)', outcome('JWKS_REFRESH_FAILED'), 503, 50301, null],
  ['KAFKA_TOKEN_REJECTED: 401 with invalid_token (issue 11)', outcome('KAFKA_TOKEN_REJECTED'), 401, 40101, 'invalid_token'],
  ['INTERNAL: 500', outcome('INTERNAL'), 500, 500, null],
  ['a denial without a code is INTERNAL (fail closed)', outcome(null), 500, 500, null],
];

describe('denialFor', () => {
  for (const [name, input, status, restCode, challenge] of ROWS) {
    it(name, () => {
      const denial = denialFor(input);
      assert.equal(denial.status, status);
      assert.equal(header(denial, 'content-type'), 'application/json');
      assert.equal(body(denial).error_code, restCode);
      const wwwAuthenticate = header(denial, 'www-authenticate');
      if (challenge === null) {
        assert.equal(wwwAuthenticate, undefined);
        return;
      }
      assert.match(wwwAuthenticate ?? '', CHALLENGE);
      if (challenge === 'bare') assert.ok(!wwwAuthenticate!.includes('error='));
      else assert.ok(wwwAuthenticate!.includes(`error="${challenge}"`));
    });
  }

  it('has an answer for every code in the catalogue', () => {
    for (const code of ERROR_CODES) {
      const denial = denialFor(outcome(code));
      assert.equal(denial.status, CODE_INFO[code].http, code);
      assert.equal(body(denial).error_code, code === 'ROUTE_UNKNOWN' ? 404 : CODE_INFO[code].restCode, code);
    }
  });

  it('names the operation and resource of an ACL denial, as JSON-safe text', () => {
    const denied: ResourceRequest = { resourceType: 'TOPIC', name: 'a"b\\c</x>', operation: 'WRITE' };
    const denial = denialFor(
      outcome('ACL_DENIED', { denied, reason: 'not allowed: WRITE on TOPIC "a\\"b\\\\c</x>"' }),
    );
    assert.equal(denial.status, 403);
    const parsed = body(denial);
    assert.equal(parsed.error_code, 40301);
    assert.ok(parsed.message.includes('WRITE on TOPIC'));
  });

  // Issue 11: retryable, so a client retries instead of discarding a token that may be good.
  it('tells clients when to retry while the issuer keys cannot be fetched', () => {
    for (const code of ['JWKS_UNAVAILABLE', 'JWKS_REFRESH_FAILED'] as const) {
      assert.match(header(denialFor(outcome(code)), 'retry-after') ?? '', /^[1-9][0-9]*$/, code);
    }
    assert.equal(header(denialFor(outcome('JWT_KEY_UNKNOWN')), 'retry-after'), undefined);
  });

  it('builds constant answers once', () => {
    assert.equal(denialFor(outcome('JWT_EXPIRED')), denialFor(outcome('JWT_EXPIRED')));
  });
});
