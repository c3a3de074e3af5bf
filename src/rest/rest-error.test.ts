import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { checkOutcome } from '../../test/support/check-outcome.ts';
import type { Checker, CheckOutcome } from '../check/check.ts';
import { parseConfig } from '../config/load.ts';
import { CODE_INFO, ERROR_CODES, type ErrorCode } from '../errors.ts';
import { SessionManager } from '../kafka/session-manager.ts';
import { Metrics } from '../metrics/metrics.ts';
import { SUCCESS_TYPE } from './respond.ts';
import { renderRestError } from './rest-error.ts';
import { createRestServer } from './rest-server.ts';

describe('renderRestError', () => {
  type Row = readonly [code: ErrorCode, thrown: string | null, status: number, body: object, type: string];

  // biome-ignore format: one line per case keeps the table readable
  const ROWS: readonly Row[] = [
    ['TOPIC_NOT_FOUND', 'Topic orders.x not found', 404, { error_code: 40401, message: 'Topic orders.x not found' }, SUCCESS_TYPE],
    ['TOPIC_PARTITION_UNKNOWN', 'Topic orders.x not found', 404, { error_code: 40403, message: 'Topic orders.x not found' }, SUCCESS_TYPE],
    ['CONSUMER_NOT_FOUND', null, 404, { error_code: 40403, message: 'Consumer instance not found' }, SUCCESS_TYPE],
    ['KAFKA_AUTHZ_FAILED', 'Not authorized to access topics: [orders.x]', 403, { error_code: 40301, message: 'Forbidden' }, 'application/json'],
    ['KAFKA_AUTH_FAILED', 'SASL failed', 403, { error_code: 40101, message: 'Forbidden' }, 'application/json'],
    ['KAFKA_UNAVAILABLE', 'Connection refused', 503, { error_code: 503, message: 'Service unavailable' }, SUCCESS_TYPE],
    ['KAFKA_ERROR', 'NOT_CONTROLLER', 500, { error_code: 50002, message: 'Kafka error: NOT_CONTROLLER' }, 'application/json'],
    ['INTERNAL', 'TypeError: boom', 500, { error_code: 500, message: 'Internal server error' }, 'application/json'],
    ['REQUEST_TOO_LARGE', null, 413, { error_code: 413, message: 'HTTP Request Entity Too Large' }, 'application/json'],
    ['MEDIA_TYPE_UNSUPPORTED', null, 415, { error_code: 415, message: 'HTTP 415 Unsupported Media Type' }, SUCCESS_TYPE],
    ['ACL_DENIED', 'READ on TOPIC "orders.eu"', 403, { error_code: 40301, message: 'Not authorized: READ on TOPIC "orders.eu"' }, 'application/json'],
    ['JWT_EXPIRED', 'exp is past', 401, { error_code: 40101, message: 'The access token expired' }, 'application/json'],
  ];

  for (const [code, thrown, status, body, type] of ROWS) {
    it(`renders ${code} as ${status} ${JSON.stringify(body)}`, () => {
      const answer = renderRestError(code, thrown);
      assert.equal(answer.status, status);
      assert.equal(answer.body, JSON.stringify(body));
      assert.equal(answer.contentType, type);
      assert.equal('content-type' in answer.headers, false, 'the content type is set once, by the contract');
    });
  }

  it('challenges 401s and a missing scope, and nothing else', () => {
    for (const code of ERROR_CODES) {
      const challenge = renderRestError(code, null).headers['www-authenticate'];
      const wanted = CODE_INFO[code].http === 401 || code === 'JWT_SCOPE_MISSING';
      assert.equal(challenge !== undefined, wanted, code);
      if (wanted) assert.match(challenge!, /^Bearer realm="kafka-rest"/);
    }
  });
});

describe('the REST server answers errors from the catalogue', () => {
  const config = parseConfig({
    issuers: [{ issuer: 'https://idp.example.com', audiences: ['kafka'] }],
    kafka: { brokers: ['127.0.0.1:1'] },
  });
  let base = '';
  let outcome: CheckOutcome = checkOutcome({ code: 'TOKEN_MISSING' });
  let checkerFails = false;
  const logged: Array<Record<string, unknown>> = [];
  const checker: Checker = {
    async check() {
      if (checkerFails) throw new TypeError('checker bug');
      return outcome;
    },
    checkNow() {
      return this.check({} as never, {} as never);
    },
    checkResources: () => outcome,
  };
  const logger = pino({ level: 'error' }, { write: (line: string) => void logged.push(JSON.parse(line)) });
  const metrics = new Metrics({ collectDefault: false });
  const sessions = new SessionManager(config, metrics, logger);
  const server = createRestServer({
    config,
    checker,
    sessions,
    acls: () => null,
    sharedSession: null,
    metrics,
    logger,
    startedAtMs: Date.now(),
    version: 'test',
  });

  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await sessions.closeAll('shutdown', 100);
  });

  async function get(path: string, init: RequestInit = {}) {
    const res = await fetch(`${base}${path}`, init);
    return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
  }

  it('answers an unknown path 404 and an unserved method 405, with CORS', async () => {
    const missing = await get('/nope');
    assert.deepEqual(
      [missing.status, missing.body],
      [404, { error_code: 404, message: 'HTTP 404 Not Found' }],
    );
    assert.equal(missing.headers.get('access-control-allow-origin'), '*');
    const method = await get('/brokers', { method: 'DELETE' });
    assert.deepEqual([method.status, method.body.error_code], [405, 405]);
  });

  it('answers an unsupported media type 415 before authentication', async () => {
    const res = await get('/topics/orders.eu', {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: '{}',
    });
    assert.deepEqual([res.status, res.body.error_code], [415, 415]);
  });

  it('renders a denial with its challenge, its JSON type and the CORS headers', async () => {
    outcome = checkOutcome({ code: 'TOKEN_MISSING' });
    const res = await get('/brokers');
    assert.equal(res.status, 401);
    assert.equal(res.body.error_code, 40101);
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="kafka-rest"');
    assert.equal(res.headers.get('access-control-allow-methods'), 'DELETE, GET, OPTIONS, POST, PUT');
  });

  it('shows the refused operation of an ACL denial', async () => {
    outcome = checkOutcome({ code: 'ACL_DENIED', detail: 'DESCRIBE on CLUSTER "kafka-cluster"' });
    const res = await get('/brokers');
    assert.deepEqual(
      [res.status, res.body],
      [403, { error_code: 40301, message: 'Not authorized: DESCRIBE on CLUSTER "kafka-cluster"' }],
    );
  });

  it('logs an exception that is no coded error with its stack, then answers a plain 500', async () => {
    checkerFails = true;
    try {
      const res = await get('/brokers');
      assert.deepEqual([res.status, res.body], [500, { error_code: 500, message: 'Internal server error' }]);
      const line = logged.find((entry) => entry.event === 'rest_internal_error');
      assert.ok(line, 'logged');
      assert.match(String(line.stack), /TypeError: checker bug\n\s+at /);
    } finally {
      checkerFails = false;
    }
  });
});

describe('renderRestError: Retry-After', () => {
  // Issue 13: a client must be able to tell "try again shortly" from a failure.
  it('answers an unavailable Kafka with a retryable 503 and Retry-After', () => {
    const answer = renderRestError('KAFKA_UNAVAILABLE', 'no broker');
    assert.equal(answer.status, 503);
    assert.ok(Number(answer.headers['retry-after']) > 0);
  });

  it('gives no Retry-After to errors that retrying will not fix', () => {
    assert.equal(renderRestError('KAFKA_AUTHZ_FAILED', 'x').headers['retry-after'], undefined);
    assert.equal(renderRestError('ACL_DENIED', null).headers['retry-after'], undefined);
  });
});
