import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  answerMessage,
  CODE_INFO,
  ERROR_CODES,
  type ErrorAnswer,
  type ErrorCode,
  errorAnswer,
  RPC,
  ServiceError,
} from './errors.ts';

const RPC_NAMES = new Map<number, string>(Object.entries(RPC).map(([name, value]) => [value, name]));

function header(answer: ErrorAnswer, name: string): string | undefined {
  const found = answer.headers.filter(([key]) => key === name);
  assert.ok(found.length <= 1, `${name} appears ${found.length} times`);
  return found[0]?.[1];
}

function body(answer: ErrorAnswer): { error_code: number; message: string } {
  const parsed = JSON.parse(answer.body) as Record<string, unknown>;
  assert.deepEqual(Object.keys(parsed), ['error_code', 'message'], 'keys sorted, nothing else');
  assert.equal(typeof parsed.error_code, 'number');
  assert.equal(typeof parsed.message, 'string');
  assert.notEqual(parsed.message, '');
  return parsed as { error_code: number; message: string };
}

// RFC 6750 §3: auth-param values are quoted-strings; ours never need escapes.
const CHALLENGE =
  /^Bearer realm="[^"\\]+"(, error="(invalid_token|insufficient_scope)"(, error_description="[^"\\]*")?)?$/;

describe('the error catalogue', () => {
  it('gives every code an HTTP status, a REST error_code, a gRPC status and a message', () => {
    for (const code of ERROR_CODES) {
      const info = CODE_INFO[code];
      assert.ok(info.http >= 400 && info.http < 600, code);
      // The REST error_code is the HTTP status, or a status of the same class with two more
      // digits (40401; Confluent's 40101 for a Kafka login refused with 403).
      assert.ok(info.restCode === info.http || String(info.restCode)[0] === String(info.http)[0], code);
      assert.ok(info.restCode === info.http || (info.restCode >= 10000 && info.restCode < 60000), code);
      assert.ok(RPC_NAMES.has(info.grpc) && info.grpc !== RPC.OK, `${code}: a denial is never gRPC OK`);
      assert.notEqual(info.message, '', code);
    }
  });

  it('answers 401 exactly for authentication failures', () => {
    for (const code of ERROR_CODES) {
      assert.equal(CODE_INFO[code].authentication, CODE_INFO[code].http === 401, code);
      assert.equal(CODE_INFO[code].grpc === RPC.UNAUTHENTICATED, CODE_INFO[code].http === 401, code);
    }
    assert.equal(new ServiceError('JWT_EXPIRED').httpStatus, 401);
  });

  it('keeps the README table of codes in step with the catalogue', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const rows = [...readme.matchAll(/^\| `([A-Z_]+)` \| (\d+) \| (\d+) \| ([A-Z_]+) \|$/gm)].map((m) => [
      m[1],
      Number(m[2]),
      Number(m[3]),
      m[4],
    ]);
    const expected = ERROR_CODES.map((code) => [
      code,
      CODE_INFO[code].http,
      CODE_INFO[code].restCode,
      RPC_NAMES.get(CODE_INFO[code].grpc),
    ]);
    assert.deepEqual(rows, expected);
  });

  it("names every code in the chart README's list of reasons", () => {
    const chart = readFileSync(new URL('../charts/tollgate/README.md', import.meta.url), 'utf8');
    const named = new Set([...chart.matchAll(/`([A-Z][A-Z_]+[A-Z])`/g)].map((m) => m[1]));
    const missing = ERROR_CODES.filter((code) => !named.has(code));
    assert.deepEqual(missing, []);
  });
});

describe('answerMessage', () => {
  it('shows the thrown message for codes whose messages are written for clients', () => {
    assert.equal(answerMessage('TOPIC_NOT_FOUND', 'Topic orders not found'), 'Topic orders not found');
    assert.equal(answerMessage('TOPIC_NOT_FOUND', null), 'Topic not found');
  });

  it("hides a dependency's words behind the catalogue message", () => {
    assert.equal(answerMessage('KAFKA_AUTHZ_FAILED', 'Not authorized to access topics: [x]'), 'Forbidden');
    assert.equal(answerMessage('INTERNAL', 'TypeError: x is undefined'), 'Internal server error');
    assert.equal(answerMessage('JWT_EXPIRED', 'exp 1700000000 is past'), 'The access token expired');
  });

  it('appends the detail where the code says so, once', () => {
    assert.equal(answerMessage('ACL_DENIED', 'WRITE on TOPIC "x"'), 'Not authorized: WRITE on TOPIC "x"');
    assert.equal(answerMessage('KAFKA_ERROR', 'NOT_LEADER'), 'Kafka error: NOT_LEADER');
    assert.equal(new ServiceError('KAFKA_ERROR').publicMessage, 'Kafka error');
  });
});

type Row = readonly [name: string, code: ErrorCode, detail: string | null, challenge: 'bare' | string | null];

// biome-ignore format: one line per case keeps the table readable
const ROWS: readonly Row[] = [
  ['no token: a bare challenge without an error (RFC 6750 §3.1)', 'TOKEN_MISSING', null, 'bare'],
  ...ERROR_CODES.filter((code) => CODE_INFO[code].authentication && code !== 'TOKEN_MISSING').map(
    (code): Row => [`${code}: 401 with invalid_token`, code, null, 'invalid_token'],
  ),
  ['JWT_SCOPE_MISSING: 403 with insufficient_scope', 'JWT_SCOPE_MISSING', null, 'insufficient_scope'],
  ['USER_UNKNOWN: 403 without a challenge', 'USER_UNKNOWN', null, null],
  ['ACL_DENIED: 403 without a challenge', 'ACL_DENIED', 'WRITE on TOPIC "x"', null],
  ['ROUTE_UNKNOWN: 404 in the REST proxy shape', 'ROUTE_UNKNOWN', null, null],
  ['METHOD_NOT_ALLOWED: 405', 'METHOD_NOT_ALLOWED', null, null],
  ['JWKS_UNAVAILABLE: 503', 'JWKS_UNAVAILABLE', null, null],
  ['INTERNAL: 500', 'INTERNAL', 'boom', null],
];

describe('errorAnswer', () => {
  for (const [name, code, detail, challenge] of ROWS) {
    it(name, () => {
      const answer = errorAnswer(code, detail);
      assert.equal(answer.status, CODE_INFO[code].http);
      assert.equal(header(answer, 'content-type'), 'application/json');
      assert.equal(body(answer).error_code, CODE_INFO[code].restCode);
      const wwwAuthenticate = header(answer, 'www-authenticate');
      if (challenge === null) {
        assert.equal(wwwAuthenticate, undefined);
        return;
      }
      assert.match(wwwAuthenticate ?? '', CHALLENGE);
      if (challenge === 'bare') assert.ok(!wwwAuthenticate!.includes('error='));
      else assert.ok(wwwAuthenticate!.includes(`error="${challenge}"`));
    });
  }

  it('has an answer in step with the catalogue for every code', () => {
    for (const code of ERROR_CODES) {
      const answer = errorAnswer(code, 'some detail');
      assert.equal(answer.status, CODE_INFO[code].http, code);
      const parsed = body(answer);
      assert.equal(parsed.error_code, CODE_INFO[code].restCode, code);
      assert.equal(parsed.message, answerMessage(code, 'some detail'), code);
    }
  });

  it('names the operation and resource of an ACL denial, as JSON-safe text', () => {
    const answer = errorAnswer('ACL_DENIED', 'WRITE on TOPIC "a\\"b\\\\c</x>"');
    const parsed = body(answer);
    assert.equal(parsed.error_code, 40301);
    assert.ok(parsed.message.startsWith('Not authorized: WRITE on TOPIC'));
  });

  it('builds constant answers once', () => {
    assert.equal(errorAnswer('JWT_EXPIRED'), errorAnswer('JWT_EXPIRED'));
    assert.equal(errorAnswer('JWT_EXPIRED', 'hidden detail'), errorAnswer('JWT_EXPIRED'));
  });
});
