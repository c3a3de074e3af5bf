import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { sleep, stackValue, tokenFor } from '../integration/stack-env.ts';
import { waitFor } from '../support/wait.ts';
import { metricValue, ROOT, tlsFile } from './prod-stack.ts';

// Issue 13: a broker certificate Tollgate must not accept (signed by another CA, for another
// host, expired). Tollgate refuses to connect and says why — a log line, a metric, a 503 to the
// caller — and never falls back to plaintext. The "broker" is a TLS endpoint of the test's own
// that presents the bad certificate and records the first byte of every connection (0x16 is
// a TLS handshake record; anything else would be plaintext Kafka).

const TLS_HANDSHAKE = 0x16;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** A Tollgate `serve` of its own, pointed at `brokers`, trusting the issuer and Kafka only through its config. */
async function startTollgate(dir: string, brokers: string) {
  const [grpc, http, metrics, rest] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const config = join(dir, 'tollgate.yaml');
  writeFileSync(
    config,
    [
      'issuers:',
      `  - issuer: ${stackValue('ISSUER_URL')}`,
      '    audiences: [kafka]',
      `    caFile: ${tlsFile('ca.pem')}`,
      `acl: { file: ${join(stackValue('STACK_DIR'), 'acl.yaml')} }`,
      `authz: { grpcListen: "127.0.0.1:${grpc}", httpListen: "127.0.0.1:${http}" }`,
      `metrics: { listen: "127.0.0.1:${metrics}" }`,
      `rest: { listen: "127.0.0.1:${rest}" }`,
      `kafka: { brokers: ["${brokers}"], ssl: true, caFile: ${tlsFile('ca.pem')}, connectionTimeoutMs: 2000, requestTimeoutMs: 5000 }`,
      'log: { level: info }',
    ].join('\n'),
  );
  const env = { ...process.env };
  // Trust through the configuration only: nothing process-wide.
  delete env.NODE_EXTRA_CA_CERTS;
  delete env.NODE_TLS_REJECT_UNAUTHORIZED;
  const child = spawn(process.execPath, [join(ROOT, 'bin/tollgate.js'), 'serve', '--config', config], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout!.on('data', (c: Buffer) => {
    log += c.toString();
  });
  child.stderr!.on('data', (c: Buffer) => {
    log += c.toString();
  });
  const deadline = Date.now() + 60_000;
  for (;;) {
    const ready = await fetch(`http://127.0.0.1:${http}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`tollgate did not start:\n${log}`);
    await sleep(300);
  }
  return { child, rest, metricsUrl: `http://127.0.0.1:${metrics}`, log: () => log };
}

describe('production profile: a broker certificate Tollgate must refuse (issue 13)', function () {
  this.timeout(180_000);
  let dir: string;
  let tollgate: Awaited<ReturnType<typeof startTollgate>> & { child: ChildProcess };
  let broker: Server;
  let tlsEndpoint: TlsServer;
  const firstBytes: number[] = [];

  /** Makes a leaf with tls.sh, signed by `caDir`'s CA. */
  function leaf(caDir: string, name: string, san: string, days: string): { key: string; cert: string } {
    execFileSync(join(ROOT, 'deploy/stack/tls.sh'), [caDir, 'leaf', name, 'kafka-broker', san, days]);
    return {
      key: readFileSync(join(caDir, `${name}.key`), 'utf8'),
      cert: readFileSync(join(caDir, `${name}.pem`), 'utf8'),
    };
  }

  const certs: Record<string, { key: string; cert: string }> = {};

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tollgate-broker-tls-'));
    // Another CA altogether, and leaves of the stack's own CA with the wrong host or dates.
    const foreign = join(dir, 'foreign');
    execFileSync(join(ROOT, 'deploy/stack/tls.sh'), [foreign]);
    certs.untrusted = {
      key: readFileSync(join(foreign, 'kafka1.key'), 'utf8'),
      cert: readFileSync(join(foreign, 'kafka1.pem'), 'utf8'),
    };
    const own = join(dir, 'own');
    execFileSync('mkdir', ['-p', own]);
    copyFileSync(tlsFile('ca.pem'), join(own, 'ca.pem'));
    copyFileSync(tlsFile('ca.key'), join(own, 'ca.key'));
    certs.hostname_mismatch = leaf(own, 'wrong-host', 'DNS:wrong.example', '2');
    certs.expired = leaf(own, 'expired', 'IP:127.0.0.1,DNS:localhost', '-1');

    tlsEndpoint = createTlsServer(certs.untrusted!);
    tlsEndpoint.on('tlsClientError', () => {});
    broker = createServer((socket: Socket) => {
      socket.on('error', () => {});
      socket.once('data', (chunk: Buffer) => {
        firstBytes.push(chunk[0]!);
        socket.pause();
        socket.unshift(chunk);
        tlsEndpoint.emit('connection', socket);
      });
    });
    const port = await new Promise<number>((resolve) =>
      broker.listen(0, '127.0.0.1', () => resolve((broker.address() as { port: number }).port)),
    );
    tollgate = await startTollgate(dir, `127.0.0.1:${port}`);
  });

  after(async () => {
    tollgate?.child.kill('SIGTERM');
    await new Promise((resolve) =>
      tollgate?.child.exitCode !== null ? resolve(null) : tollgate.child.once('exit', resolve),
    );
    broker?.close();
    tlsEndpoint?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  // One principal per case: each gets a fresh Kafka session, so each makes its own connection.
  const CASES = [
    ['untrusted', 'a certificate signed by a CA it does not trust', 'alice'],
    ['hostname_mismatch', 'a certificate for another host name', 'carol'],
    ['expired', 'an expired certificate', 'bob'],
  ] as const;

  for (const [reason, what, principal] of CASES) {
    it(`refuses ${what}: 503 with Retry-After, a ${reason} metric and log line, TLS only`, async () => {
      tlsEndpoint.setSecureContext(certs[reason]!);
      const before = await metricValue(
        'tollgate_kafka_tls_failures_total',
        `reason="${reason}"`,
        tollgate.metricsUrl,
      );
      const connectionsBefore = firstBytes.length;
      const token = await tokenFor(principal);
      const res = await fetch(`http://127.0.0.1:${tollgate.rest}/topics`, {
        headers: { authorization: `Bearer ${token}` },
        signal: AbortSignal.timeout(60_000),
      });
      assert.equal(res.status, 503);
      assert.ok(Number(res.headers.get('retry-after')) > 0, 'Retry-After');
      const after = await metricValue(
        'tollgate_kafka_tls_failures_total',
        `reason="${reason}"`,
        tollgate.metricsUrl,
      );
      assert.ok(after > before, `tollgate_kafka_tls_failures_total{reason="${reason}"} went up`);
      // The log arrives over the child's stdout pipe, which can lag behind the HTTP answer.
      const line = new RegExp(`"event":"kafka_tls_failed","reason":"${reason}"`);
      await waitFor(`a kafka_tls_failed ${reason} log line`, () => line.test(tollgate.log()));
      assert.ok(firstBytes.length > connectionsBefore, 'Tollgate did connect');
      assert.deepEqual(
        firstBytes.filter((b) => b !== TLS_HANDSHAKE),
        [],
        'every connection opened with a TLS handshake record, never plaintext',
      );
    });
  }
});
