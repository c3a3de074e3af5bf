import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { waitFor } from '../support/wait.ts';
import { api } from './rest-client.ts';
import { stackValue, tokenFor } from './stack-env.ts';

// Host-bound ACL rules end to end: client → Envoy → tollgate authz → tollgate rest → Kafka.
// The host of a rule is the client address Envoy saw; the gate checks it, passes it on in
// x-tollgate-client-address, and the REST process checks the same host again, on the route
// and on topics named in bodies (issue 10). Linux routes all of 127/8 to lo, so sending from
// 127.0.0.2 is a second client host; Envoy itself reaches the REST process from 127.0.0.1.

const NEAR = '127.0.0.2';

interface Reply {
  readonly status: number;
  // biome-ignore lint/suspicious/noExplicitAny: bodies are asserted field by field.
  readonly json: any;
  readonly text: string;
}

/** One request through Envoy from `localAddress`. */
function from(
  localAddress: string,
  method: string,
  path: string,
  token: string,
  body?: unknown,
): Promise<Reply> {
  const url = new URL(path, stackValue('TOLLGATE_URL'));
  const text = body === undefined ? undefined : JSON.stringify(body);
  const headers: Record<string, string | number> = { authorization: `Bearer ${token}` };
  if (text !== undefined) {
    headers['content-type'] = 'application/vnd.kafka.json.v2+json';
    headers['content-length'] = Buffer.byteLength(text);
  }
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        method,
        path,
        headers,
        localAddress,
        agent: false,
        timeout: 60_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          let json: unknown = null;
          try {
            json = raw === '' ? null : JSON.parse(raw);
          } catch {
            json = null;
          }
          resolve({ status: res.statusCode ?? 0, json, text: raw });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end(text);
  });
}

/** The authz_decisions_total sample for a result and reason (0 when absent). */
async function decisions(result: string, reason: string): Promise<number> {
  const text = await (await fetch(`${stackValue('METRICS_URL')}/metrics`)).text();
  const line = text
    .split('\n')
    .find((l) => l.startsWith(`tollgate_authz_decisions_total{result="${result}",reason="${reason}"}`));
  return line === undefined ? 0 : Number(line.split(' ').pop());
}

describe('host-bound ACL rules through Envoy, the gate and the REST process', function () {
  this.timeout(120_000);
  let bob: string;
  let aclFile: string;
  let original: string;

  // bob reads orders.* (READ implies DESCRIBE); rest-sessions keeps carol to itself.
  const describeTopic = (host: string) => from(host, 'GET', '/topics/orders.eu', bob);

  before(async () => {
    bob = await tokenFor('bob');
    aclFile = `${stackValue('STACK_DIR')}/acl.yaml`;
    original = readFileSync(aclFile, 'utf8');
    // bob's topic rule holds only from NEAR (his group rule holds from anywhere).
    const bound = original.replace(
      /^(\s*- \{ principal: "User:bob", resourceType: TOPIC,.*permissionType: ALLOW) \}$/gm,
      `$1, host: "${NEAR}" }`,
    );
    assert.notEqual(bound, original, 'the stack ACL file has a bob topic rule to bind');
    writeFileSync(`${aclFile}.next`, bound);
    renameSync(`${aclFile}.next`, aclFile);
    await waitFor(
      'the host-bound rules to be in force',
      async () => (await describeTopic('127.0.0.1')).status === 403,
    );
  });

  after(async () => {
    if (original === undefined) return;
    writeFileSync(`${aclFile}.next`, original);
    renameSync(`${aclFile}.next`, aclFile);
    await waitFor(
      'the original rules to be back',
      async () => (await describeTopic('127.0.0.1')).status === 200,
      20_000,
    );
  });

  it('lets a route through from the bound host: the gate and the REST process check the same host', async () => {
    const res = await describeTopic(NEAR);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.name, 'orders.eu');
  });

  it('refuses the route from another host at the gate', async () => {
    const res = await describeTopic('127.0.0.1');
    assert.equal(res.status, 403);
    assert.equal(res.json.error_code, 40301);
    assert.equal(res.json.message, 'Not authorized: DESCRIBE on TOPIC "orders.eu"');
  });

  it('filters topic lists by the caller host', async () => {
    const near = await from(NEAR, 'GET', '/topics', bob);
    assert.equal(near.status, 200);
    assert.ok(near.json.includes('orders.eu'), near.text);
    const far = await from('127.0.0.1', 'GET', '/topics', bob);
    assert.equal(far.status, 200);
    assert.ok(!far.json.includes('orders.eu'), far.text);
  });

  it('checks topics named in a body against the caller host, and counts that denial once', async () => {
    const group = `bob-${randomUUID().slice(0, 8)}`;
    const created = await api('POST', `/consumers/${group}`, {
      token: bob,
      body: { format: 'json' },
      contentType: 'application/vnd.kafka.v2+json',
    });
    assert.equal(created.status, 200, created.text);
    const instance = new URL(created.json.base_uri).pathname;
    try {
      const before = await decisions('deny', 'ACL_DENIED');
      const far = await from('127.0.0.1', 'POST', `${instance}/subscription`, bob, {
        topics: ['orders.eu'],
      });
      assert.equal(far.status, 403, far.text);
      assert.equal(far.json.message, 'Not authorized: READ on TOPIC "orders.eu"');
      assert.equal(await decisions('deny', 'ACL_DENIED'), before + 1, 'one denial, counted once');
      const near = await from(NEAR, 'POST', `${instance}/subscription`, bob, { topics: ['orders.eu'] });
      assert.equal(near.status, 204, near.text);
    } finally {
      await api('DELETE', instance, { token: bob });
    }
  });
});
