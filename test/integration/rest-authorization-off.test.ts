import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts } from '../support/ports.ts';
import { api } from './rest-client.ts';
import { sleep, stackValue, tokenFor } from './stack-env.ts';

// Authorization off (Karapace's rest_authorization=false, for migrating onto Tollgate): callers
// still authenticate, but one shared session with Tollgate's own identity (a client-credentials
// token from the issuer) serves everyone, and the broker applies *that* identity's ACLs.

describe('REST with authorization off', function () {
  this.timeout(60_000);
  let proc: ChildProcess | null = null;
  let base = '';

  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-authz-off-'));
    writeFileSync(join(dir, 'client-secret'), stackValue('DEV_CLIENT_SECRET_TOLLGATE'), { mode: 0o600 });
    const [restPort, metricsPort] = (await freePorts(2)) as [number, number];
    const config = {
      authorization: false,
      issuers: [{ issuer: stackValue('ISSUER_URL'), audiences: ['kafka'], requiredType: 'at+jwt' }],
      acl: { file: join(dir, 'no-acl-file.yaml') },
      rest: { listen: `127.0.0.1:${restPort}` },
      metrics: { listen: `127.0.0.1:${metricsPort}` },
      kafka: {
        brokers: [stackValue('KAFKA_BOOTSTRAP')],
        serviceAccount: {
          mechanism: 'oauthbearer',
          tokenUrl: stackValue('TOKEN_URL'),
          clientId: 'tollgate',
          clientSecretFile: join(dir, 'client-secret'),
        },
      },
      log: { level: 'warn' },
    };
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
    proc = spawn(process.execPath, ['bin/tollgate.js', 'rest', '--config', join(dir, 'config.json')], {
      stdio: 'inherit',
    });
    base = `http://127.0.0.1:${restPort}`;
    for (let i = 0; i < 100; i++) {
      const up = await fetch(`${base}/_health`).then(
        (r) => r.ok,
        () => false,
      );
      if (up) return;
      await sleep(100);
    }
    throw new Error('tollgate rest did not start');
  });

  after(() => {
    proc?.kill('SIGTERM');
  });

  it('serves every authenticated caller as its own identity', async () => {
    // mallory holds no ACLs at all, yet sees what Tollgate's own identity may describe.
    const res = await api('GET', '/topics', { base, token: await tokenFor('mallory') });
    assert.equal(res.status, 200, res.text);
    assert.ok(res.json.includes('orders.eu'), res.text);
    assert.ok(!res.json.includes('payments'), 'only what the shared identity may describe');
  });

  it('still refuses callers without a valid token', async () => {
    const res = await api('GET', '/topics', { base });
    assert.equal(res.status, 401);
    assert.equal(res.json.error_code, 40101);
  });
});
