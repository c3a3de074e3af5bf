import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { api, BINARY_V2, createConsumer, JSON_V2, pollUntil } from './rest-client.ts';
import { createTopic, sleep, stackValue, tokenFor } from './stack-env.ts';

// The REST process through the real stack: client → Envoy → tollgate authz → tollgate rest →
// Kafka (which validates the same token and applies its own ACLs).

describe('REST v2 through Envoy, authz and per-principal Kafka sessions', function () {
  this.timeout(90_000);
  let alice: string;
  let bob: string;
  let mallory: string;
  before(async () => {
    [alice, bob, mallory] = await Promise.all([tokenFor('alice'), tokenFor('bob'), tokenFor('mallory')]);
  });

  describe('topics and brokers', () => {
    it('lists only the topics the caller may describe', async () => {
      const res = await api('GET', '/topics', { token: alice });
      assert.equal(res.status, 200);
      assert.ok(res.json.includes('orders.eu') && res.json.includes('orders.us'));
      assert.ok(!res.json.includes('payments'), 'alice holds no ACL on payments');
      const none = await api('GET', '/topics', { token: mallory });
      assert.deepEqual(none.json, []);
    });

    it('describes a topic with its partitions, and hides unknown ones (40403)', async () => {
      const res = await api('GET', '/topics/orders.eu', { token: alice });
      assert.equal(res.status, 200);
      assert.equal(res.json.name, 'orders.eu');
      assert.equal(res.json.partitions.length, 3);
      assert.deepEqual(Object.keys(res.json.partitions[0]), ['leader', 'partition', 'replicas']);
      assert.equal(res.headers.get('content-type'), 'application/vnd.kafka.json.v2+json');
      assert.match(res.headers.get('etag') ?? '', /^"[0-9a-f]{32}"$/);
      const missing = await api('GET', '/topics/orders.nope', { token: alice });
      assert.equal(missing.status, 404);
      assert.equal(missing.json.error_code, 40403);
    });

    it('answers partitions, one partition and its offsets, with 40401/40402/404 for bad ones', async () => {
      assert.equal((await api('GET', '/topics/orders.eu/partitions', { token: alice })).json.length, 3);
      assert.equal((await api('GET', '/topics/orders.eu/partitions/1', { token: alice })).json.partition, 1);
      const offsets = await api('GET', '/topics/orders.eu/partitions/0/offsets', { token: alice });
      assert.equal(offsets.status, 200);
      assert.ok(offsets.json.end_offset >= offsets.json.beginning_offset);
      assert.equal(
        (await api('GET', '/topics/orders.nope/partitions', { token: alice })).json.error_code,
        40401,
      );
      assert.equal(
        (await api('GET', '/topics/orders.eu/partitions/9', { token: alice })).json.error_code,
        40402,
      );
      const bad = await api('GET', '/topics/orders.eu/partitions/x', { token: alice });
      assert.equal(bad.status, 404);
      assert.equal(bad.json.error_code, 404);
    });

    it('lists brokers', async () => {
      const res = await api('GET', '/brokers', { token: bob });
      assert.equal(res.status, 200);
      assert.deepEqual(res.json, { brokers: [1] });
    });
  });

  describe('produce and consume', () => {
    const topic = `orders.rest-${randomUUID().slice(0, 8)}`;
    before(() => createTopic(topic, 3));

    it('round-trips json records with keys across partitions, resuming from committed offsets', async () => {
      const group = `alice-${randomUUID().slice(0, 8)}`;
      const marker = randomUUID();
      const records = Array.from({ length: 12 }, (_, i) => ({ key: `k${i}`, value: { marker, i } }));
      const produced = await api('POST', `/topics/${topic}`, { token: alice, body: { records } });
      assert.equal(produced.status, 200, produced.text);
      assert.equal(produced.json.offsets.length, 12);
      const partitions = new Set(produced.json.offsets.map((o: { partition: number }) => o.partition));
      assert.ok(partitions.size >= 2, 'keys spread over several partitions');
      for (const o of produced.json.offsets) assert.ok(Number.isInteger(o.offset) && o.offset >= 0);

      const first = await createConsumer(alice, group, { format: 'json', 'auto.commit.enable': 'false' });
      assert.equal(
        (await api('POST', `${first}/subscription`, { token: alice, body: { topics: [topic] } })).status,
        204,
      );
      const got = (await pollUntil(alice, first, JSON_V2, 1_000, 20_000)).filter(
        (r) => r.value?.marker === marker,
      );
      assert.equal(got.length, 12, 'every produced record arrives once');
      assert.deepEqual(
        got.map((r) => r.value.i).sort((a: number, b: number) => a - b),
        records.map((r) => r.value.i),
      );
      for (const r of got) assert.equal(r.key, `k${r.value.i}`);
      // Commit everything this instance read, then a new instance in the group starts after it.
      const last = new Map<number, number>();
      for (const r of got) last.set(r.partition, Math.max(last.get(r.partition) ?? -1, r.offset));
      const commit = await api('POST', `${first}/offsets`, {
        token: alice,
        body: {
          offsets: [...last].map(([partition, offset]) => ({ topic, partition, offset })),
        },
      });
      assert.equal(commit.status, 204, commit.text);
      const committed = await api('GET', `${first}/offsets`, {
        token: alice,
        body: { partitions: [...last.keys()].map((partition) => ({ topic, partition })) },
        contentType: 'application/vnd.kafka.v2+json',
      });
      assert.equal(committed.status, 200, committed.text);
      for (const o of committed.json.offsets) assert.equal(o.offset, last.get(o.partition)! + 1);
      assert.equal((await api('DELETE', first, { token: alice })).status, 204);

      const marker2 = randomUUID();
      await api('POST', `/topics/${topic}`, {
        token: alice,
        body: { records: [{ value: { marker: marker2 } }] },
      });
      const second = await createConsumer(alice, group, { format: 'json' });
      await api('POST', `${second}/subscription`, { token: alice, body: { topics: [topic] } });
      const resumed = await pollUntil(
        alice,
        second,
        JSON_V2,
        (all) => all.some((r) => r.value?.marker === marker2),
        20_000,
      );
      assert.ok(
        resumed.some((r) => r.value?.marker === marker2),
        'the new record arrives',
      );
      assert.ok(!resumed.some((r) => r.value?.marker === marker), 'nothing committed is read again');
      await api('DELETE', second, { token: alice });
    });

    it('round-trips binary records to an explicit partition', async () => {
      const group = `alice-${randomUUID().slice(0, 8)}`;
      const payload = Buffer.from([0, 1, 2, 250, 255]).toString('base64');
      const key = Buffer.from(randomUUID()).toString('base64');
      const produced = await api('POST', `/topics/${topic}/partitions/2`, {
        token: alice,
        contentType: BINARY_V2,
        body: { records: [{ key, value: payload }] },
      });
      assert.equal(produced.status, 200, produced.text);
      assert.equal(produced.json.offsets[0].partition, 2);
      const consumer = await createConsumer(alice, group, { format: 'binary' });
      await api('POST', `${consumer}/subscription`, { token: alice, body: { topics: [topic] } });
      const got = await pollUntil(
        alice,
        consumer,
        BINARY_V2,
        (all) => all.some((r) => r.key === key),
        15_000,
      );
      const mine = got.find((r) => r.key === key);
      assert.ok(mine, 'the binary record arrives');
      assert.equal(mine.value, payload);
      assert.equal(mine.partition, 2);
      assert.equal(mine.offset, produced.json.offsets[0].offset);
      await api('DELETE', consumer, { token: alice });
    });
  });

  describe('who may do what', () => {
    it('lets bob read but not write orders.*, and mallory neither', async () => {
      const bobWrite = await api('POST', '/topics/orders.eu', {
        token: bob,
        body: { records: [{ value: 1 }] },
      });
      assert.equal(bobWrite.status, 403);
      assert.equal(bobWrite.json.error_code, 40301);
      assert.equal((await api('GET', '/topics/orders.eu', { token: bob })).status, 200);
      const malloryRead = await api('GET', '/topics/orders.eu', { token: mallory });
      assert.equal(malloryRead.status, 403);
      const groupDenied = await api('POST', '/consumers/alice-x', {
        token: bob,
        body: {},
        contentType: 'application/vnd.kafka.v2+json',
      });
      assert.equal(groupDenied.status, 403, 'bob may only use groups bob-*');
    });

    it('answers a clean 403 when the gateway allows what the broker refuses', async () => {
      const aclFile = `${stackValue('STACK_DIR')}/acl.yaml`;
      const original = readFileSync(aclFile, 'utf8');
      // Gateway ACLs deliberately wider than the broker's: here bob may also write orders.*;
      // the broker lets him describe the topic (READ implies DESCRIBE) but not write to it.
      writeFileSync(
        aclFile,
        `${original}\n  - { username: bob, topic: "orders.*", permission: readwrite }\n`,
      );
      try {
        await sleep(2_500); // the ACL file is polled every second
        const res = await api('POST', '/topics/orders.eu', { token: bob, body: { records: [{ value: 1 }] } });
        assert.equal(res.status, 403, res.text);
        assert.equal(res.json.error_code, 40301);
        assert.equal(res.headers.get('content-type'), 'application/json');
      } finally {
        writeFileSync(aclFile, original);
        await sleep(2_000);
      }
    });

    it("does not let bob read, seek, commit or delete alice's consumer instance", async () => {
      const consumer = await createConsumer(alice, 'bob-shared', { format: 'json' }).catch(() => null);
      // alice has no ACL on bob-* groups: use a group both could name, owned by alice.
      assert.equal(consumer, null, 'alice may not use bob-* groups either');
      const group = `alice-${randomUUID().slice(0, 8)}`;
      const path = await createConsumer(alice, group, { format: 'json' });
      const attempts: Array<[string, string, unknown]> = [
        ['GET', `${path}/records`, undefined],
        ['POST', `${path}/positions`, { offsets: [{ topic: 'orders.eu', partition: 0, offset: 0 }] }],
        ['POST', `${path}/offsets`, {}],
        ['DELETE', path, undefined],
        ['GET', `${path}/subscription`, undefined],
      ];
      for (const [method, target, body] of attempts) {
        const res = await api(method, target, {
          token: bob,
          body,
          accept: JSON_V2,
          contentType: body ? 'application/vnd.kafka.v2+json' : undefined,
        });
        assert.ok(res.status === 404 || res.status === 403, `${method} ${target}: ${res.status}`);
        if (res.status === 404) assert.equal(res.json.error_code, 40403);
        assert.ok(!res.text.includes(group.slice(6)) || res.status === 403, 'no instance is named');
      }
      assert.equal(
        (await api('GET', `${path}/subscription`, { token: alice })).status,
        200,
        'still alive for alice',
      );
      await api('DELETE', path, { token: alice });
    });
  });

  describe('bad input', () => {
    const cases: Array<{
      name: string;
      method: string;
      path: string;
      opts: () => object;
      status: number;
      code: number | null;
    }> = [
      {
        name: 'unknown path',
        method: 'GET',
        path: '/nope',
        opts: () => ({ token: alice }),
        status: 404,
        code: 404,
      },
      {
        name: 'malformed JSON',
        method: 'POST',
        path: '/topics/orders.eu',
        opts: () => ({ token: alice, rawBody: '{oops', contentType: JSON_V2 }),
        status: 400,
        code: 400,
      },
      {
        name: 'empty body',
        method: 'POST',
        path: '/topics/orders.eu',
        opts: () => ({ token: alice, rawBody: '', contentType: JSON_V2 }),
        status: 400,
        code: 400,
      },
      {
        name: 'JSON that is not an object',
        method: 'POST',
        path: '/topics/orders.eu',
        opts: () => ({ token: alice, body: [1], contentType: JSON_V2 }),
        status: 400,
        code: 400,
      },
      {
        name: 'wrong content type',
        method: 'POST',
        path: '/topics/orders.eu',
        opts: () => ({ token: alice, body: { records: [] }, contentType: 'text/plain' }),
        status: 415,
        code: 415,
      },
      {
        name: 'unacceptable Accept',
        method: 'GET',
        path: '/topics',
        opts: () => ({ token: alice, accept: 'text/html' }),
        status: 406,
        code: 406,
      },
      {
        name: 'records missing',
        method: 'POST',
        path: '/topics/orders.eu',
        opts: () => ({ token: alice, body: { foo: 1 } }),
        status: 422,
        code: 422,
      },
      {
        name: 'records not an array',
        method: 'POST',
        path: '/topics/orders.eu',
        opts: () => ({ token: alice, body: { records: 'x' } }),
        status: 400,
        code: 400,
      },
      {
        name: 'record partition not an integer',
        method: 'POST',
        path: '/topics/orders.eu',
        opts: () => ({ token: alice, body: { records: [{ value: 1, partition: 'x' }] } }),
        // Issue 9: the caller's mistake is a 4xx (Karapace answers 500 here).
        status: 422,
        code: 422,
      },
      {
        name: 'binary value not base64',
        method: 'POST',
        path: '/topics/orders.eu',
        opts: () => ({ token: alice, contentType: BINARY_V2, body: { records: [{ value: '***' }] } }),
        status: 400,
        code: 400,
      },
      {
        name: 'unknown topic on produce',
        method: 'POST',
        path: '/topics/orders.nope',
        opts: () => ({ token: alice, body: { records: [{ value: 1 }] } }),
        status: 404,
        code: 40401,
      },
      {
        name: 'unknown partition on produce',
        method: 'POST',
        path: '/topics/orders.eu/partitions/7',
        opts: () => ({ token: alice, body: { records: [{ value: 1 }] } }),
        status: 404,
        code: 40402,
      },
      {
        name: 'avro with a schema that is not Avro',
        method: 'POST',
        path: '/topics/orders.eu',
        opts: () => ({
          token: alice,
          contentType: 'application/vnd.kafka.avro.v2+json',
          body: { value_schema: '{"type":"nonsense"}', records: [{ value: 1 }] },
        }),
        status: 422,
        code: 42205,
      },
      {
        name: 'unknown consumer instance',
        method: 'GET',
        path: '/consumers/alice-g/instances/nobody/subscription',
        opts: () => ({ token: alice }),
        status: 404,
        code: 40403,
      },
      {
        name: 'bad consumer format',
        method: 'POST',
        path: '/consumers/alice-g',
        opts: () => ({ token: alice, body: { format: 'xml' } }),
        status: 422,
        code: 42204,
      },
      {
        name: 'bad auto.offset.reset',
        method: 'POST',
        path: '/consumers/alice-g',
        opts: () => ({ token: alice, body: { 'auto.offset.reset': 'middle' } }),
        status: 422,
        code: 42204,
      },
      {
        name: 'oversized body',
        method: 'POST',
        path: '/topics/orders.eu',
        opts: () => ({ token: alice, body: { records: [{ value: 'x'.repeat(1_100_000) }] } }),
        status: 413,
        code: 413,
      },
      { name: 'no token', method: 'GET', path: '/topics', opts: () => ({}), status: 401, code: 40101 },
    ];
    for (const c of cases) {
      it(`answers ${c.status}${c.code ? `/${c.code}` : ''} for ${c.name}`, async () => {
        const res = await api(c.method, c.path, c.opts());
        assert.equal(res.status, c.status, res.text);
        if (c.code !== null) assert.equal(res.json?.error_code, c.code, res.text);
      });
    }

    it('answers a bad offset in a seek with 500/50001 and a seek on an unassigned partition with 409/40903', async () => {
      const path = await createConsumer(alice, `alice-${randomUUID().slice(0, 8)}`, { format: 'json' });
      const bad = await api('POST', `${path}/positions`, {
        token: alice,
        body: { offsets: [{ topic: 'orders.eu', partition: 0, offset: -3 }] },
      });
      assert.equal(bad.status, 500);
      assert.equal(bad.json.error_code, 50001);
      const unassigned = await api('POST', `${path}/positions`, {
        token: alice,
        body: { offsets: [{ topic: 'orders.eu', partition: 0, offset: 0 }] },
      });
      assert.equal(unassigned.status, 409);
      assert.equal(unassigned.json.error_code, 40903);
      const wrongAccept = await api('GET', `${path}/records`, { token: alice, accept: BINARY_V2 });
      assert.equal(wrongAccept.status, 406);
      assert.equal(wrongAccept.json.error_code, 40601);
      await api('DELETE', path, { token: alice });
    });
  });
});
