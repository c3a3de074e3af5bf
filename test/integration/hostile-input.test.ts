import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import fc from 'fast-check';
import { createTopic, sleep, stackValue, tokenFor } from './stack-env.ts';

// Issue 9, part 2: whatever a caller sends is answered 4xx with the contract's JSON error body,
// never 5xx; the process stays up and its memory does not balloon.

interface Raw {
  readonly status: number;
  readonly text: string;
}

/** A request exactly as given (no client-side normalisation of the path). */
function send(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<Raw> {
  const url = new URL(base);
  // Framed with Content-Length: Node sends a GET body unframed otherwise.
  if (body !== undefined) headers = { ...headers, 'content-length': String(Buffer.byteLength(body)) };
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, method, path, headers, timeout: 30_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('client timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

/** The contract's error body: `{"error_code": int, "message": str}`, or `{"message"}` for 401/403. */
function assertErrorBody(res: Raw, what: string): void {
  let body: { error_code?: unknown; message?: unknown };
  try {
    body = JSON.parse(res.text);
  } catch {
    assert.fail(`${what}: ${res.status} body is not JSON: ${JSON.stringify(res.text.slice(0, 200))}`);
  }
  assert.equal(typeof body.message, 'string', `${what}: message in ${res.text.slice(0, 200)}`);
  if (res.status !== 401 && res.status !== 403) {
    assert.ok(Number.isInteger(body.error_code), `${what}: error_code in ${res.text.slice(0, 200)}`);
  }
}

function tollgatePid(): number {
  return Number(readFileSync(`${stackValue('STACK_DIR')}/pids/tollgate.pid`, 'utf8').trim());
}

function rssMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Math.round(Number(line?.split(/\s+/)[1] ?? 0) / 1024);
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

describe('hostile input (issue 9)', function () {
  this.timeout(240_000);
  let token: string;
  before(async () => {
    token = await tokenFor('alice', { ttl: '10m' });
  });

  const rows: Array<[string, string, string, number]> = [
    ['a record value nested 5,000 deep', '/topics/orders.eu', `{"records":[{"value":${nested(5000)}}]}`, 400],
    ['a record partition "abc"', '/topics/orders.eu', '{"records":[{"value":1,"partition":"abc"}]}', 422],
    ['a record partition 1e400', '/topics/orders.eu', '{"records":[{"value":1,"partition":1e400}]}', 422],
    ['a topic orders.é☃', `/topics/${encodeURIComponent('orders.é☃')}`, '{"records":[{"value":1}]}', 400],
    ['a 300-character topic', `/topics/orders.${'x'.repeat(293)}`, '{"records":[{"value":1}]}', 400],
  ];
  for (const [name, path, body, status] of rows) {
    it(`answers ${status} with a JSON error to ${name}, through Envoy`, async () => {
      const res = await send(
        stackValue('TOLLGATE_URL'),
        'POST',
        path,
        { authorization: `Bearer ${token}`, 'content-type': 'application/vnd.kafka.json.v2+json' },
        body,
      );
      assert.equal(res.status, status, res.text);
      assertErrorBody(res, name);
    });
  }

  const escapes: Array<[string, string]> = [
    ['%00', '/topics/orders.a%00b'],
    ['%2F', '/topics/orders.a%2Fb'],
  ];
  for (const [name, path] of escapes) {
    it(`answers 400 to a topic with ${name}, sent straight to the REST process`, async () => {
      const res = await send(stackValue('REST_URL'), 'GET', path, { authorization: `Bearer ${token}` });
      assert.equal(res.status, 400, res.text);
      assertErrorBody(res, name);
    });
  }

  it("gives Envoy's fail-closed 503 the REST error JSON body", async () => {
    // A second Envoy with the stack's config, its authz cluster pointing at a closed port.
    const [listen, admin, dead] = [await freePort(), await freePort(), await freePort()];
    const config = readFileSync('deploy/envoy/envoy.yaml', 'utf8')
      .replace('port_value: 8080', `port_value: ${listen}`)
      .replace('port_value: 9901', `port_value: ${admin}`)
      .replace('port_value: 9191', `port_value: ${dead}`)
      .replace('port_value: 8082', `port_value: ${new URL(stackValue('REST_URL')).port}`);
    const file = `${stackValue('STACK_DIR')}/envoy-authz-down.yaml`;
    writeFileSync(file, config);
    const envoy: ChildProcess = spawn(
      '.tools/bin/envoy',
      ['-c', file, '--log-level', 'error', '--base-id', String(admin), '--concurrency', '1'],
      { stdio: 'ignore' },
    );
    try {
      let res: Raw | null = null;
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline) {
        try {
          res = await send(`http://127.0.0.1:${listen}`, 'GET', '/topics', {
            authorization: `Bearer ${token}`,
          });
          break;
        } catch {
          await sleep(200);
        }
      }
      assert.ok(res, 'the second Envoy answers');
      assert.equal(res.status, 503, res.text);
      assertErrorBody(res, 'authz unreachable');
      assert.equal(JSON.parse(res.text).error_code, 50301);
    } finally {
      envoy.kill('SIGTERM');
    }
  });

  it('answers thousands of generated requests with 4xx JSON errors, never 5xx, and stays up', async () => {
    // Generated records go to a topic of this test's own, and no generated group is one alice
    // may use (bob-g is bob's): other tests' topics and alice's consumer quota stay untouched.
    const topic = `orders.fuzz-${Date.now().toString(36)}`;
    await createTopic(topic, 1);
    const pid = tollgatePid();
    const rssBefore = rssMiB(pid);
    const restUrl = stackValue('REST_URL');
    const authUrl = stackValue('AUTHZ_HTTP_URL');
    const segment = fc.oneof(
      fc.constantFrom(topic, 'bob-g', 'i1', '0', '-1', '99999999999', 'records', 'offsets'),
      fc.string({ maxLength: 40 }).map(encodeURIComponent),
      fc.stringMatching(/^[A-Za-z0-9._~%-]{0,30}$/),
    );
    const shapes = fc.constantFrom(
      '/topics/{}',
      '/topics/{}/partitions/{}',
      '/topics/{}/partitions/{}/offsets',
      '/consumers/{}',
      '/consumers/{}/instances/{}/records',
      '/consumers/{}/instances/{}/subscription',
      '/consumers/{}/instances/{}/positions',
      '/v3/clusters/{}/topics/{}',
      '/{}',
      '/{}/{}',
    );
    const path = fc
      .tuple(
        shapes,
        fc.array(segment, { minLength: 2, maxLength: 2 }),
        fc.stringMatching(/^[a-z_=&0-9%-]{0,30}$/),
      )
      .map(([shape, [a, b], query]) => {
        const filled = shape.replace('{}', a!).replace('{}', b!);
        return query === '' ? filled : `${filled}?${query}`;
      });
    const headerValue = fc.stringMatching(/^[\x20-\x7e]{0,60}$/);
    const body = fc.oneof(
      fc.constant(undefined),
      fc.jsonValue({ maxDepth: 6 }).map((v) => JSON.stringify(v)),
      fc
        .record({
          records: fc.array(
            fc.record(
              {
                key: fc.jsonValue({ maxDepth: 3 }),
                value: fc.jsonValue({ maxDepth: 4 }),
                partition: fc.oneof(fc.integer(), fc.string(), fc.double()),
              },
              { requiredKeys: [] },
            ),
            { maxLength: 4 },
          ),
        })
        .map((v) => JSON.stringify(v)),
      fc.string({ maxLength: 200 }),
      fc.integer({ min: 70, max: 5000 }).map((depth) => `{"records":[{"value":${nested(depth)}}]}`),
    );
    const contentType = fc.oneof(
      fc.constantFrom(
        'application/vnd.kafka.json.v2+json',
        'application/vnd.kafka.binary.v2+json',
        'application/json',
        'application/vnd.kafka.avro.v2+json',
      ),
      headerValue,
    );
    const restRequest = fc.record({
      method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'OPTIONS'),
      path,
      contentType,
      accept: fc.option(headerValue),
      authorization: fc.oneof(fc.constant(`Bearer ${token}`), fc.constant(`Bearer ${token}`), headerValue),
      body,
    });

    const problems: string[] = [];
    let count = 0;
    await fc.assert(
      fc.asyncProperty(restRequest, async (r) => {
        const headers: Record<string, string> = {
          authorization: r.authorization,
          'content-type': r.contentType,
        };
        if (r.accept !== null) headers.accept = r.accept;
        const res = await send(restUrl, r.method, r.path, headers, r.body);
        count++;
        if (res.status >= 500)
          problems.push(`${r.method} ${r.path} -> ${res.status} ${res.text.slice(0, 200)}`);
        else if (res.status >= 400) assertErrorBody(res, `${r.method} ${r.path}`);
      }),
      { numRuns: 1500, interruptAfterTimeLimit: 90_000 },
    );
    const authRequest = fc.record({
      method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'),
      uri: path,
      forwardedMethod: fc.oneof(fc.constantFrom('GET', 'POST', 'DELETE'), headerValue),
      authorization: fc.oneof(fc.constant(`Bearer ${token}`), headerValue),
      query: fc.stringMatching(/^[a-z=&0-9%-]{0,20}$/),
    });
    await fc.assert(
      fc.asyncProperty(authRequest, async (r) => {
        const res = await send(authUrl, r.method, `/auth${r.query ? `?${r.query}` : ''}`, {
          authorization: r.authorization,
          'x-forwarded-method': r.forwardedMethod,
          'x-forwarded-uri': r.uri,
        });
        count++;
        if (res.status >= 500)
          problems.push(`/auth ${r.forwardedMethod} ${r.uri} -> ${res.status} ${res.text}`);
        else if (res.status >= 400) assertErrorBody(res, `/auth ${r.forwardedMethod} ${r.uri}`);
      }),
      { numRuns: 1500, interruptAfterTimeLimit: 60_000 },
    );
    // Large and deep bodies near the 1 MiB limit: issue 9 saw RSS go from 152 to 408 MiB and stay.
    const big = JSON.stringify({ records: [{ value: 'v'.repeat(900_000) }] });
    const deep = `{"records":[{"value":${nested(450_000)}}]}`;
    for (let i = 0; i < 30; i++) {
      const res = await send(
        restUrl,
        'POST',
        `/topics/${topic}`,
        { authorization: `Bearer ${token}`, 'content-type': 'application/vnd.kafka.json.v2+json' },
        i % 3 === 0 ? big : deep,
      );
      count++;
      if (res.status >= 500) problems.push(`large body ${i} -> ${res.status} ${res.text.slice(0, 200)}`);
    }
    assert.equal(tollgatePid(), pid, 'the same Tollgate process answered throughout');
    process.kill(pid, 0);
    const health = await send(restUrl, 'GET', '/_health', {});
    assert.equal(health.status, 200);
    const rssAfter = rssMiB(pid);
    console.log(
      `      ${count} generated requests; Tollgate RSS ${rssBefore} MiB before, ${rssAfter} MiB after`,
    );
    assert.deepEqual(problems.slice(0, 20), [], `${problems.length} requests answered 5xx`);
    assert.ok(count >= 1000, `at least 1,000 requests were sent (${count})`);
    assert.ok(rssAfter - rssBefore < 256, `RSS grew by ${rssAfter - rssBefore} MiB`);
  });
});
