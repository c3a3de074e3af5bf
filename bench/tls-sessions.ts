/**
 * Idle sessions on the production profile (issue 13): a `tollgate serve` of its own, SASL_SSL
 * to the three brokers, the issuer over HTTPS trusted through caFile; N principals (tokens of
 * the `alice` client with preferred_username=user-N, the principal claim here) each produce one
 * record and go idle. Prints RSS per session and established connections to the brokers.
 *
 *   STACK_PROFILE=production make stack-up; NODE_EXTRA_CA_CERTS=.stack/tls/ca.pem \
 *     .tools/node/bin/node bench/tls-sessions.ts 100 300
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { readEnvFile } from '../src/dev/dev-clients.ts';
import { requestToken } from '../src/kafka/client-credentials.ts';

const steps = process.argv.slice(2).map(Number);
const env = readEnvFile(process.env.STACK_ENV ?? '.stack/env');
const get = (k: string) => env.get(k) ?? '';
const ca = join(get('TLS_DIR'), 'ca.pem');
const brokerPorts = get('KAFKA_BOOTSTRAP')
  .split(',')
  .map((b) => b.split(':')[1]!);
const user = (i: number) => `user-${String(i).padStart(4, '0')}`;
const max = Math.max(...steps);

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

const dir = mkdtempSync(join(tmpdir(), 'tls-sessions-'));
writeFileSync(
  join(dir, 'acl.yaml'),
  stringify({
    serviceUsers: Array.from({ length: max + 1 }, (_, i) => user(i)),
    acls: [
      {
        principal: 'User:*',
        resourceType: 'TOPIC',
        patternType: 'PREFIXED',
        resourceName: 'orders.',
        operation: 'WRITE',
        permissionType: 'ALLOW',
      },
    ],
  }),
);
const [grpc, http, metrics, rest] = [await freePort(), await freePort(), await freePort(), await freePort()];
writeFileSync(
  join(dir, 'tollgate.yaml'),
  stringify({
    issuers: [
      { issuer: get('ISSUER_URL'), audiences: ['kafka'], principalClaim: 'preferred_username', caFile: ca },
    ],
    acl: { file: join(dir, 'acl.yaml') },
    authz: { grpcListen: `127.0.0.1:${grpc}`, httpListen: `127.0.0.1:${http}` },
    metrics: { listen: `127.0.0.1:${metrics}` },
    rest: { listen: `127.0.0.1:${rest}` },
    kafka: { brokers: get('KAFKA_BOOTSTRAP').split(','), ssl: true, caFile: ca },
    sessions: { maxSessions: max + 10, idleTimeoutSec: 3600, sweepIntervalSec: 3600 },
    log: { level: 'warn' },
  }),
);
const childEnv = { ...process.env };
delete childEnv.NODE_EXTRA_CA_CERTS;
const child = spawn(
  process.execPath,
  ['--no-allocation-site-pretenuring', 'bin/tollgate.js', 'serve', '-c', join(dir, 'tollgate.yaml')],
  {
    env: childEnv,
    stdio: 'inherit',
  },
);
for (;;) {
  if (
    await fetch(`http://127.0.0.1:${http}/readyz`).then(
      (r) => r.ok,
      () => false,
    )
  )
    break;
  await new Promise((r) => setTimeout(r, 300));
}

const rssKiB = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]);
function connections(): number {
  const filter = `( ${brokerPorts.map((p) => `dport = :${p}`).join(' or ')} )`;
  const out = execFileSync('ss', ['-tnpH', 'state', 'established', filter], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.includes(`pid=${child.pid},`)).length;
}
const secret = get('DEV_CLIENT_SECRET_ALICE');
async function produceAs(i: number): Promise<void> {
  const { accessToken } = await requestToken({
    tokenUrl: get('TOKEN_URL'),
    clientId: 'alice',
    clientSecret: secret,
    claims: [`preferred_username=${user(i)}`],
  });
  const res = await fetch(`http://127.0.0.1:${rest}/topics/orders.eu`, {
    method: 'POST',
    headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/vnd.kafka.json.v2+json' },
    body: JSON.stringify({ records: [{ value: { i } }] }),
  });
  if (res.status !== 200) throw new Error(`produce as ${user(i)}: ${res.status} ${await res.text()}`);
}

await produceAs(max);
await new Promise((r) => setTimeout(r, 2000));
const base = { rss: rssKiB(), conns: connections() };
console.log(
  `baseline (1 session): RSS ${(base.rss / 1024).toFixed(1)} MiB, ${base.conns} broker connections`,
);
let opened = 0;
for (const step of steps) {
  const started = Date.now();
  for (; opened < step; opened += 10) {
    await Promise.all(Array.from({ length: Math.min(10, step - opened) }, (_, k) => produceAs(opened + k)));
  }
  await new Promise((r) => setTimeout(r, 5000));
  const rss = rssKiB();
  const conns = connections();
  console.log(
    `${step} idle sessions over TLS, 3 brokers: RSS ${(rss / 1024).toFixed(1)} MiB, ` +
      `${((rss - base.rss) / step).toFixed(0)} KiB per session, ${conns} broker connections ` +
      `(${((conns - base.conns) / step).toFixed(2)} per session), opened in ${((Date.now() - started) / 1000).toFixed(0)} s`,
  );
}
child.kill('SIGTERM');
