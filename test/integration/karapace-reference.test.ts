import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { type ApiOptions, api } from './rest-client.ts';
import { createTopic, sleep, stackValue, tokenFor } from './stack-env.ts';

// Issue 12's live reference: Karapace's own REST proxy (OAuth2 pass-through, the caller's bearer
// forwarded to Kafka and to the schema registry) runs against the same stack, and the same
// requests go to both. Each case pins a behaviour Tollgate chose to share; status and error_code
// are compared, and records field by field (messages are for humans and differ).

const AVRO_V2 = 'application/vnd.kafka.avro.v2+json';
const JSONSCHEMA_V2 = 'application/vnd.kafka.jsonschema.v2+json';
const JSON_V2 = 'application/vnd.kafka.json.v2+json';
const BINARY_V2 = 'application/vnd.kafka.binary.v2+json';
const PORT = Number(process.env.STACK_KARAPACE_REST_PORT ?? 8083);
const KARAPACE = `http://127.0.0.1:${PORT}`;
const RUN_REST = resolve('.tools/karapace-venv/run-rest.sh');

type Side = { name: string; base: string | undefined };
const id = () => randomUUID().slice(0, 8);

describe('Tollgate against Karapace’s REST proxy, request by request', function () {
  this.timeout(180_000);
  let karapace: ChildProcess | null = null;
  let alice: string;
  let sides: Side[];

  before(async () => {
    assert.ok(existsSync(RUN_REST), `${RUN_REST} missing: run make deps`);
    alice = await tokenFor('alice');
    karapace = spawn(RUN_REST, [], {
      detached: true,
      stdio: 'ignore',
      env: {
        ...process.env,
        KARAPACE_VENV: resolve('.tools/karapace-venv'),
        KAFKA_BOOTSTRAP: stackValue('KAFKA_BOOTSTRAP'),
        REST_PORT: String(PORT),
        REGISTRY_URL: stackValue('REGISTRY_URL'),
        LOG_LEVEL: 'WARNING',
        // Makes Karapace forward the caller's Authorization to the registry, as Tollgate does.
        KARAPACE_SASL_OAUTHBEARER_AUTHENTICATION_ENABLED: 'true',
      },
    });
    const end = Date.now() + 90_000;
    for (;;) {
      const up = await fetch(`${KARAPACE}/`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (up) break;
      assert.ok(karapace.exitCode === null, `Karapace REST exited with ${karapace.exitCode}`);
      assert.ok(Date.now() < end, 'Karapace REST did not answer within 90 s');
      await sleep(500);
    }
    sides = [
      { name: 'tollgate', base: undefined },
      { name: 'karapace', base: KARAPACE },
    ];
  });

  after(() => {
    if (karapace?.pid) {
      try {
        process.kill(-karapace.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
  });

  const call = (side: Side, method: string, path: string, opts: ApiOptions = {}) =>
    api(method, path, { token: alice, ...opts, base: side.base });

  async function consumer(side: Side, group: string, body: Record<string, unknown>): Promise<string> {
    const res = await call(side, 'POST', `/consumers/${group}`, {
      body,
      contentType: 'application/vnd.kafka.v2+json',
    });
    assert.equal(res.status, 200, `${side.name}: ${res.text}`);
    const uri = String(res.json.base_uri);
    return uri.startsWith('http') ? new URL(uri).pathname : `/${uri}`;
  }

  // biome-ignore lint/suspicious/noExplicitAny: records are compared field by field.
  async function firstNonEmptyPoll(side: Side, path: string, accept: string): Promise<any> {
    const end = Date.now() + 60_000;
    for (;;) {
      const res = await call(side, 'GET', `${path}/records?timeout=3000`, { accept });
      if (res.status !== 200 || res.json.length > 0 || Date.now() > end) return res;
    }
  }

  it('answers 42202 and 42201 for schema-format records without schemas', async () => {
    for (const side of sides) {
      const values = await call(side, 'POST', '/topics/orders.eu', {
        contentType: AVRO_V2,
        body: { records: [{ value: { a: 1 } }] },
      });
      assert.deepEqual([values.status, values.json.error_code], [422, 42202], side.name);
      const keys = await call(side, 'POST', '/topics/orders.eu', {
        contentType: AVRO_V2,
        body: { value_schema: '"int"', records: [{ key: 1, value: 1 }] },
      });
      assert.deepEqual([keys.status, keys.json.error_code], [422, 42201], side.name);
    }
  });

  it('creates consumers in every format', async () => {
    for (const side of sides) {
      for (const format of ['binary', 'json', 'avro', 'jsonschema', 'protobuf']) {
        const path = await consumer(side, `alice-${id()}`, { format });
        assert.equal((await call(side, 'DELETE', path)).status, 204, `${side.name} ${format}`);
      }
    }
  });

  it('writes avro the same way: the same schema id, and each reads both records alike', async () => {
    const topic = `orders.ref-${id()}`;
    await createTopic(topic, 1);
    const schema = JSON.stringify({
      type: 'record',
      name: 'Ref',
      fields: [
        { name: 'n', type: 'int' },
        { name: 'tag', type: ['null', 'string'], default: null },
      ],
    });
    const ids: number[] = [];
    for (const side of sides) {
      const res = await call(side, 'POST', `/topics/${topic}`, {
        contentType: AVRO_V2,
        body: { value_schema: schema, records: [{ value: { n: 1, tag: { string: side.name } } }] },
      });
      assert.equal(res.status, 200, `${side.name}: ${res.text}`);
      ids.push(res.json.value_schema_id);
    }
    assert.equal(ids[0], ids[1], 'both registered the same schema under the same subject');
    const answers = [];
    for (const side of sides) {
      const path = await consumer(side, `alice-${id()}`, { format: 'avro' });
      await call(side, 'POST', `${path}/assignments`, { body: { partitions: [{ topic, partition: 0 }] } });
      const got = [];
      const end = Date.now() + 60_000;
      while (got.length < 2 && Date.now() < end) {
        const res = await call(side, 'GET', `${path}/records?timeout=3000`, { accept: AVRO_V2 });
        assert.equal(res.status, 200, `${side.name}: ${res.text}`);
        got.push(...res.json);
      }
      answers.push(
        got.map((r: { offset: number; key: unknown; value: unknown }) => [r.offset, r.key, r.value]),
      );
      await call(side, 'DELETE', path);
    }
    assert.deepEqual(answers[0], [
      [0, null, { n: 1, tag: 'tollgate' }],
      [1, null, { n: 1, tag: 'karapace' }],
    ]);
    assert.deepEqual(answers[1], answers[0]);
  });

  it('answers a value not in the wire format the same way (422)', async () => {
    const topic = `orders.ref-plain-${id()}`;
    await createTopic(topic, 1);
    const produced = await call(sides[0]!, 'POST', `/topics/${topic}`, {
      contentType: BINARY_V2,
      body: { records: [{ value: Buffer.from('plain bytes').toString('base64') }] },
    });
    assert.equal(produced.status, 200, produced.text);
    const codes = [];
    for (const side of sides) {
      const path = await consumer(side, `alice-${id()}`, { format: 'avro' });
      await call(side, 'POST', `${path}/assignments`, { body: { partitions: [{ topic, partition: 0 }] } });
      const res = await firstNonEmptyPoll(side, path, AVRO_V2);
      codes.push([res.status, res.json?.error_code]);
      await call(side, 'DELETE', path);
    }
    assert.deepEqual(codes[0], [422, 422]);
    assert.deepEqual(codes[1], codes[0]);
  });

  it('gathers a poll across the topics of a pattern subscription on both', async () => {
    const prefix = `orders.ref-gather-${id()}`;
    const topics = [`${prefix}-a`, `${prefix}-b`, `${prefix}-c`];
    for (const topic of topics) {
      await createTopic(topic, 1);
      const records = [1, 2, 3].map((i) => ({ value: { topic, i } }));
      assert.equal((await call(sides[0]!, 'POST', `/topics/${topic}`, { body: { records } })).status, 200);
    }
    for (const side of sides) {
      const path = await consumer(side, `alice-${id()}`, { format: 'json' });
      const sub = await call(side, 'POST', `${path}/subscription`, {
        body: { topic_pattern: `${prefix.replace('.', '\\.')}-.*` },
      });
      assert.equal(sub.status, 204, `${side.name}: ${sub.text}`);
      const res = await firstNonEmptyPoll(side, path, JSON_V2);
      assert.equal(res.status, 200, `${side.name}: ${res.text}`);
      assert.equal(res.json.length, 9, `${side.name}: first non-empty poll had ${res.json.length} records`);
      await call(side, 'DELETE', path);
    }
  });

  it('reads right after assign and seek on both', async () => {
    const topic = `orders.ref-assign-${id()}`;
    await createTopic(topic, 1);
    const records = ['a', 'b', 'c'].map((value) => ({ value }));
    assert.equal((await call(sides[0]!, 'POST', `/topics/${topic}`, { body: { records } })).status, 200);
    for (const side of sides) {
      const path = await consumer(side, `alice-${id()}`, { format: 'json' });
      assert.equal(
        (await call(side, 'POST', `${path}/assignments`, { body: { partitions: [{ topic, partition: 0 }] } }))
          .status,
        204,
      );
      let seek = await call(side, 'POST', `${path}/positions`, {
        body: { offsets: [{ topic, partition: 0, offset: 1 }] },
      });
      // The contract lets a seek right after assign answer 40903 once; clients retry. Karapace's
      // proxy (lazy assignment) sometimes answers a plain 500 there instead, for a few seconds:
      // the reference gets retries, Tollgate must answer at once.
      const retries = side.name === 'karapace' ? 10 : 1;
      for (
        let i = 0;
        i < retries && (seek.status === 409 || (side.name === 'karapace' && seek.status === 500));
        i++
      ) {
        await sleep(500);
        seek = await call(side, 'POST', `${path}/positions`, {
          body: { offsets: [{ topic, partition: 0, offset: 1 }] },
        });
      }
      assert.equal(seek.status, 204, `${side.name}: ${seek.text}`);
      const res = await firstNonEmptyPoll(side, path, JSON_V2);
      assert.deepEqual(
        res.json.map((r: { offset: number; value: string }) => [r.offset, r.value]),
        [
          [1, 'b'],
          [2, 'c'],
        ],
        side.name,
      );
      await call(side, 'DELETE', path);
    }
  });

  it('answers an unknown schema id on produce with 42205 on both', async () => {
    for (const side of sides) {
      const res = await call(side, 'POST', '/topics/orders.eu', {
        contentType: JSONSCHEMA_V2,
        body: { value_schema_id: 2147483000, records: [{ value: { a: 1 } }] },
      });
      assert.deepEqual([res.status, res.json?.error_code], [422, 42205], `${side.name}: ${res.text}`);
    }
  });
});
