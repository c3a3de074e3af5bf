import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { api } from './rest-client.ts';
import { sleep, stackValue, tokenFor } from './stack-env.ts';

// Issue 11: when the broker refuses a token Tollgate accepted, the caller got 503 "Service
// unavailable" and nothing was logged. Here a Tollgate trusts one audience more than the broker
// does (the broker expects only "kafka"), so a token for "tollgate-only" passes Tollgate's check
// and is refused by Kafka's own OAUTHBEARER validator — a real refusal, not a mock.

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

async function metricValue(metricsUrl: string, line: string): Promise<number> {
  const text = await (await fetch(`${metricsUrl}/metrics`)).text();
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  // prom-client prints a labelled child only once it has been incremented.
  return found === undefined ? 0 : Number(found.slice(line.length + 1));
}

describe('a token the broker refuses but Tollgate accepts', function () {
  this.timeout(90_000);
  let proc: ChildProcess | null = null;
  let base = '';
  let metricsUrl = '';
  const output: string[] = [];

  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-broker-refusal-'));
    const [restPort, metricsPort] = await Promise.all([freePort(), freePort()]);
    const config = {
      issuers: [
        {
          issuer: stackValue('ISSUER_URL'),
          audiences: [stackValue('AUDIENCE'), 'tollgate-only'],
          requiredType: 'at+jwt',
          principalClaim: stackValue('KAFKA_SUB_CLAIM'),
        },
      ],
      acl: { file: join(stackValue('STACK_DIR'), 'acl.yaml') },
      rest: { listen: `127.0.0.1:${restPort}` },
      metrics: { listen: `127.0.0.1:${metricsPort}` },
      kafka: { brokers: [stackValue('KAFKA_BOOTSTRAP')] },
      log: { level: 'info' },
    };
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
    proc = spawn(process.execPath, ['bin/tollgate.js', 'rest', '--config', join(dir, 'config.json')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    proc.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    proc.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    base = `http://127.0.0.1:${restPort}`;
    metricsUrl = `http://127.0.0.1:${metricsPort}`;
    for (let i = 0; i < 300; i++) {
      const up = await fetch(`${base}/_health`).then(
        (r) => r.ok,
        () => false,
      );
      if (up) return;
      await sleep(100);
    }
    throw new Error(`tollgate rest did not start:\n${output.join('')}`);
  });

  after(() => {
    proc?.kill('SIGTERM');
  });

  it('serves the same principal with a token the broker accepts (the setup is sound)', async () => {
    const res = await api('GET', '/topics', { base, token: await tokenFor('bob') });
    assert.equal(res.status, 200, res.text);
  });

  it('answers 401 invalid_token, logs the broker reason and counts it', async () => {
    const before = await metricValue(metricsUrl, 'tollgate_kafka_errors_total{code="KAFKA_TOKEN_REJECTED"}');
    const token = await tokenFor('alice', { audience: 'tollgate-only' });
    const res = await api('GET', '/topics', { base, token });
    assert.equal(res.status, 401, res.text);
    assert.match(res.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
    const after = await metricValue(metricsUrl, 'tollgate_kafka_errors_total{code="KAFKA_TOKEN_REJECTED"}');
    assert.equal(after, before + 1);
    const deadline = Date.now() + 10_000;
    while (!output.join('').includes('kafka_token_rejected') && Date.now() < deadline) await sleep(100);
    const line = output
      .join('')
      .split('\n')
      .find((l) => l.includes('kafka_token_rejected'));
    assert.ok(line, `no kafka_token_rejected log line in:\n${output.join('')}`);
    // The broker's answer (RFC 7628 status) is in the line; the token never is.
    assert.match(line, /invalid_token/);
    assert.ok(!line.includes(token.split('.')[1]!), 'the token must not be logged');
  });

  it('produces with a 401 too, not a per-record 503', async () => {
    const token = await tokenFor('alice', { audience: 'tollgate-only' });
    const res = await api('POST', '/topics/orders.eu', {
      base,
      token,
      contentType: 'application/vnd.kafka.json.v2+json',
      body: { records: [{ value: { id: 1 } }] },
    });
    assert.equal(res.status, 401, res.text);
  });
});
