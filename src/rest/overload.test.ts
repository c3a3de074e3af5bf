import assert from 'node:assert/strict';
import { request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { compileAcls } from '../acl/acl-compile.ts';
import { parseAclFile } from '../acl/acl-file.ts';
import { createChecker } from '../check/check.ts';
import { parseConfig } from '../config/load.ts';
import type { TokenVerifier, VerifyResult } from '../jwt/verifier.ts';
import { SessionManager } from '../kafka/session-manager.ts';
import { Metrics } from '../metrics/metrics.ts';
import { createRestServer } from './rest-server.ts';

// Issue #14: above rest.maxInFlightRequests the REST process answers 503 + Retry-After at once,
// before reading the body or checking the token. Functional, not timed.

const parsed = parseAclFile('serviceUsers: [alice]\nacls: []\n');
if (!parsed.ok) throw new Error(parsed.problems.join('; '));
const ACLS = compileAcls(parsed.file);

function createCountingVerifier(): TokenVerifier & { calls: number } {
  const verifier = {
    calls: 0,
    async verify(): Promise<VerifyResult> {
      verifier.calls++;
      return { ok: false, code: 'JWT_SIGNATURE_INVALID', reason: 'test' };
    },
    ready: () => true,
    start: () => {},
    stop: () => {},
    refreshKeys: async () => true,
  };
  return verifier;
}

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** Starts a POST whose body is sent only when `finish()` is called. */
function openPost(port: number): { answer: Promise<Answer>; finish(): void } {
  const body = '{"records":[{"value":"YQ=="}]}';
  const req = httpRequest({
    host: '127.0.0.1',
    port,
    method: 'POST',
    path: '/topics/orders.eu',
    agent: false,
    headers: {
      authorization: 'Bearer aGRy.cGF5bG9hZA.c2ln',
      'content-type': 'application/vnd.kafka.binary.v2+json',
      'content-length': String(Buffer.byteLength(body)),
    },
  });
  const answer = new Promise<Answer>((resolve, reject) => {
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      );
    });
  });
  req.flushHeaders();
  return { answer, finish: () => req.end(body) };
}

async function until(what: string, condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 20000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('REST server under overload', () => {
  let server: Server | null = null;

  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
    server = null;
  });

  async function start(maxInFlightRequests: number) {
    const config = parseConfig({
      issuers: [{ issuer: 'https://idp.test', audiences: ['kafka'] }],
      rest: { maxInFlightRequests, overloadRetryAfterSec: 2 },
    });
    const metrics = new Metrics({ collectDefault: false });
    const logger = pino({ level: 'silent' });
    const verifier = createCountingVerifier();
    const s = createRestServer({
      config,
      checker: createChecker(config, { verifier, acls: () => ACLS }),
      sessions: new SessionManager(config, metrics, logger),
      acls: () => ACLS,
      sharedSession: null,
      metrics,
      logger,
      startedAtMs: Date.now(),
      version: 'test',
    });
    server = s;
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
    let connections = 0;
    s.on('request', () => connections++);
    return { port: (s.address() as AddressInfo).port, verifier, metrics, requests: () => connections };
  }

  it('answers 503 with Retry-After above the limit, before checking the token', async () => {
    const { port, verifier, metrics, requests } = await start(1);
    const first = openPost(port);
    await until('the first request in flight', () => requests() === 1);

    const refused = openPost(port);
    refused.finish();
    const answer = await refused.answer;
    assert.equal(answer.status, 503);
    assert.equal(answer.headers['retry-after'], '2');
    assert.equal(JSON.parse(answer.body).error_code, 503);
    assert.equal(verifier.calls, 0, 'the refused request must not have been checked');
    const shed = await metrics.registry.getSingleMetric('tollgate_requests_shed_total')?.get();
    assert.equal(shed?.values.find((v) => v.labels.component === 'rest')?.value, 1);

    // The first request was only waiting for its body: it goes on and is checked as usual.
    first.finish();
    assert.equal((await first.answer).status, 401);
    assert.equal(verifier.calls, 1);
  });

  it('admits the next request once one in flight has finished', async () => {
    const { port } = await start(1);
    for (let i = 0; i < 3; i++) {
      const post = openPost(port);
      post.finish();
      assert.equal((await post.answer).status, 401);
    }
  });
});
