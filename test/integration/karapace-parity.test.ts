import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { api, createConsumer, JSON_V2, pollUntil } from './rest-client.ts';
import { connectAdmin, createTopic, tokenFor } from './stack-env.ts';

// Issue 12: behaving as Karapace's REST proxy does where clients notice, through Envoy with
// per-principal sessions, and the schema formats over the stack's real Karapace registry.

const AVRO_V2 = 'application/vnd.kafka.avro.v2+json';
const JSONSCHEMA_V2 = 'application/vnd.kafka.jsonschema.v2+json';
const PROTOBUF_V2 = 'application/vnd.kafka.protobuf.v2+json';

const kafkaAdmin = connectAdmin;

describe('Karapace parity (issue 12)', function () {
  this.timeout(120_000);
  let alice: string;
  const id = () => randomUUID().slice(0, 8);
  before(async () => {
    alice = await tokenFor('alice');
  });

  describe('consumer semantics', () => {
    it('gathers a poll across topics: a pattern subscription to three topics answers all nine records at once', async () => {
      const prefix = `orders.gather-${id()}`;
      const topics = [`${prefix}-a`, `${prefix}-b`, `${prefix}-c`];
      for (const topic of topics) await createTopic(topic, 1);
      for (const topic of topics) {
        const records = [1, 2, 3].map((i) => ({ value: { topic, i } }));
        const res = await api('POST', `/topics/${topic}`, { token: alice, body: { records } });
        assert.equal(res.status, 200, res.text);
      }
      const instance = await createConsumer(alice, `alice-${id()}`, { format: 'json' });
      const sub = await api('POST', `${instance}/subscription`, {
        token: alice,
        body: { topic_pattern: `${prefix.replace('.', '\\.')}-.*` },
      });
      assert.equal(sub.status, 204, sub.text);
      // The first poll that returns anything must return everything that is there.
      let first: Array<{ topic: string }> = [];
      const end = Date.now() + 60_000;
      while (first.length === 0 && Date.now() < end) {
        const res = await api('GET', `${instance}/records?timeout=5000`, { token: alice, accept: JSON_V2 });
        assert.equal(res.status, 200, res.text);
        first = res.json;
      }
      assert.equal(first.length, 9, `first non-empty poll: ${JSON.stringify(first)}`);
      assert.deepEqual([...new Set(first.map((r) => r.topic))].sort(), topics);
      await api('DELETE', instance, { token: alice });
    });

    it('assigns manually without joining the group: the subscriber is not rebalanced, and assign + seek reads at once', async () => {
      const topic = `orders.assign-${id()}`;
      await createTopic(topic, 2);
      const produced = await api('POST', `/topics/${topic}/partitions/1`, {
        token: alice,
        body: { records: [{ value: 'a' }, { value: 'b' }, { value: 'c' }] },
      });
      assert.equal(produced.status, 200, produced.text);
      const group = `alice-${id()}`;
      const subscriber = await createConsumer(alice, group, { format: 'json' });
      await api('POST', `${subscriber}/subscription`, { token: alice, body: { topics: [topic] } });
      await pollUntil(alice, subscriber, JSON_V2, 3);
      const admin = await kafkaAdmin();
      try {
        const before = (await admin.describeGroups([group])).groups[0]!;
        assert.equal(before.members.length, 1);
        const assigned = await createConsumer(alice, group, { format: 'json' });
        const assign = await api('POST', `${assigned}/assignments`, {
          token: alice,
          body: { partitions: [{ topic, partition: 1 }] },
        });
        assert.equal(assign.status, 204, assign.text);
        const seek = await api('POST', `${assigned}/positions`, {
          token: alice,
          body: { offsets: [{ topic, partition: 1, offset: 1 }] },
        });
        assert.equal(seek.status, 204, seek.text);
        const records = await api('GET', `${assigned}/records?timeout=10000`, {
          token: alice,
          accept: JSON_V2,
        });
        assert.deepEqual(
          records.json.map((r: { offset: number; value: string }) => [r.offset, r.value]),
          [
            [1, 'b'],
            [2, 'c'],
          ],
        );
        const after = (await admin.describeGroups([group])).groups[0]!;
        assert.equal(after.members.length, 1, 'the assigned instance is not a group member');
        assert.equal(
          after.members[0]!.memberId,
          before.members[0]!.memberId,
          'no rebalance replaced the member',
        );
        await api('DELETE', assigned, { token: alice });
      } finally {
        await admin.disconnect();
        await api('DELETE', subscriber, { token: alice });
      }
    });

    it('keeps answering offsets of a topic after another topic the session used is deleted', async () => {
      const kept = `orders.kept-${id()}`;
      const doomed = `orders.doomed-${id()}`;
      await createTopic(kept, 1);
      await createTopic(doomed, 1);
      for (const topic of [kept, doomed]) {
        assert.equal(
          (await api('POST', `/topics/${topic}`, { token: alice, body: { records: [{ value: 1 }] } })).status,
          200,
        );
      }
      const instance = await createConsumer(alice, `alice-${id()}`, { format: 'json' });
      const commit = await api('POST', `${instance}/offsets`, {
        token: alice,
        body: {
          offsets: [
            { topic: kept, partition: 0, offset: 0 },
            { topic: doomed, partition: 0, offset: 0 },
          ],
        },
      });
      assert.equal(commit.status, 204, commit.text);
      const read = () =>
        api('GET', `${instance}/offsets`, {
          token: alice,
          body: { partitions: [{ topic: kept, partition: 0 }] },
        });
      assert.equal((await read()).status, 200);
      const admin = await kafkaAdmin();
      try {
        await admin.deleteTopics({ topics: [doomed], timeout: 30_000 });
      } finally {
        await admin.disconnect();
      }
      const res = await read();
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.json.offsets, [{ topic: kept, partition: 0, offset: 1, metadata: '' }]);
      const partitionOffsets = await api('GET', `/topics/${kept}/partitions/0/offsets`, { token: alice });
      assert.equal(partitionOffsets.status, 200, partitionOffsets.text);
      await api('DELETE', instance, { token: alice });
    });

    it('lets a principal keep a few dozen consumer instances (Karapace has no cap)', async () => {
      const group = `alice-${id()}`;
      const made: string[] = [];
      try {
        for (let i = 0; i < 40; i++) made.push(await createConsumer(alice, group, { name: `i${i}` }));
        assert.equal(made.length, 40);
      } finally {
        for (const path of made) await api('DELETE', path, { token: alice });
      }
    });

    it('creates avro, jsonschema and protobuf consumers', async () => {
      for (const format of ['avro', 'jsonschema', 'protobuf']) {
        const res = await api('POST', `/consumers/alice-${id()}`, {
          token: alice,
          body: { format },
          contentType: 'application/vnd.kafka.v2+json',
        });
        assert.equal(res.status, 200, `${format}: ${res.text}`);
        await api('DELETE', new URL(res.json.base_uri).pathname, { token: alice });
      }
    });

    it('answers 42202 / 42201 for schema-format records without a schema, before any registry', async () => {
      const values = await api('POST', '/topics/orders.eu', {
        token: alice,
        contentType: AVRO_V2,
        body: { records: [{ value: { a: 1 } }] },
      });
      assert.equal(values.status, 422);
      assert.equal(values.json.error_code, 42202);
      const keys = await api('POST', '/topics/orders.eu', {
        token: alice,
        contentType: AVRO_V2,
        body: { value_schema: '"int"', records: [{ key: 1, value: 1 }] },
      });
      assert.equal(keys.status, 422);
      assert.equal(keys.json.error_code, 42201);
    });
  });

  describe('schema formats over the Karapace registry', () => {
    const userV1 = JSON.stringify({
      type: 'record',
      name: 'User',
      fields: [
        { name: 'name', type: 'string' },
        { name: 'age', type: 'int' },
      ],
    });

    it('round-trips avro keys and values, by schema and by schema id', async () => {
      const topic = `orders.avro-${id()}`;
      await createTopic(topic, 1);
      const first = await api('POST', `/topics/${topic}`, {
        token: alice,
        contentType: AVRO_V2,
        body: {
          key_schema: '"string"',
          value_schema: userV1,
          records: [{ key: 'u1', value: { name: 'Ann', age: 31 } }],
        },
      });
      assert.equal(first.status, 200, first.text);
      assert.equal(typeof first.json.value_schema_id, 'number');
      assert.equal(typeof first.json.key_schema_id, 'number');
      const second = await api('POST', `/topics/${topic}`, {
        token: alice,
        contentType: AVRO_V2,
        body: { value_schema_id: first.json.value_schema_id, records: [{ value: { name: 'Bo', age: 7 } }] },
      });
      assert.equal(second.status, 200, second.text);
      assert.equal(second.json.value_schema_id, first.json.value_schema_id);
      const misfit = await api('POST', `/topics/${topic}`, {
        token: alice,
        contentType: AVRO_V2,
        body: { value_schema_id: first.json.value_schema_id, records: [{ value: { name: 'Cy' } }] },
      });
      assert.equal(misfit.status, 422);
      assert.equal(misfit.json.error_code, 42205);

      const instance = await createConsumer(alice, `alice-${id()}`, { format: 'avro' });
      await api('POST', `${instance}/subscription`, { token: alice, body: { topics: [topic] } });
      const records = await pollUntil(alice, instance, AVRO_V2, 2);
      assert.deepEqual(
        records.map((r) => [r.key, r.value]),
        [
          ['u1', { age: 31, name: 'Ann' }],
          [null, { age: 7, name: 'Bo' }],
        ],
      );
      const wrongAccept = await api('GET', `${instance}/records?timeout=100`, {
        token: alice,
        accept: JSON_V2,
      });
      assert.equal(wrongAccept.json.error_code, 40601);
      await api('DELETE', instance, { token: alice });
    });

    it('takes a compatible v2 of an avro schema and refuses an incompatible one (42205)', async () => {
      const topic = `orders.evolve-${id()}`;
      await createTopic(topic, 1);
      const v1 = await api('POST', `/topics/${topic}`, {
        token: alice,
        contentType: AVRO_V2,
        body: { value_schema: userV1, records: [{ value: { name: 'Ann', age: 1 } }] },
      });
      assert.equal(v1.status, 200, v1.text);
      const v2Schema = JSON.stringify({
        type: 'record',
        name: 'User',
        fields: [
          { name: 'name', type: 'string' },
          { name: 'age', type: 'int' },
          { name: 'email', type: ['null', 'string'], default: null },
        ],
      });
      const v2 = await api('POST', `/topics/${topic}`, {
        token: alice,
        contentType: AVRO_V2,
        body: {
          value_schema: v2Schema,
          records: [{ value: { name: 'Bo', age: 2, email: 'bo@example.org' } }],
        },
      });
      assert.equal(v2.status, 200, v2.text);
      assert.notEqual(v2.json.value_schema_id, v1.json.value_schema_id);
      const incompatible = JSON.stringify({
        type: 'record',
        name: 'User',
        fields: [{ name: 'id', type: 'long' }],
      });
      const refused = await api('POST', `/topics/${topic}`, {
        token: alice,
        contentType: AVRO_V2,
        body: { value_schema: incompatible, records: [{ value: { id: 3 } }] },
      });
      assert.equal(refused.status, 422, refused.text);
      assert.equal(refused.json.error_code, 42205);
    });

    it('round-trips jsonschema values and refuses data that does not fit (42205)', async () => {
      const topic = `orders.jsonschema-${id()}`;
      await createTopic(topic, 1);
      const schema = JSON.stringify({
        type: 'object',
        properties: { id: { type: 'integer' } },
        required: ['id'],
      });
      const ok = await api('POST', `/topics/${topic}`, {
        token: alice,
        contentType: JSONSCHEMA_V2,
        body: { value_schema: schema, records: [{ value: { id: 5 } }] },
      });
      assert.equal(ok.status, 200, ok.text);
      const bad = await api('POST', `/topics/${topic}`, {
        token: alice,
        contentType: JSONSCHEMA_V2,
        body: { value_schema_id: ok.json.value_schema_id, records: [{ value: { id: 'five' } }] },
      });
      assert.equal(bad.json.error_code, 42205);
      const instance = await createConsumer(alice, `alice-${id()}`, { format: 'jsonschema' });
      await api('POST', `${instance}/subscription`, { token: alice, body: { topics: [topic] } });
      const records = await pollUntil(alice, instance, JSONSCHEMA_V2, 1);
      assert.deepEqual(records[0].value, { id: 5 });
      await api('DELETE', instance, { token: alice });
    });

    it('round-trips protobuf values with the message-index path, and refuses a misfit (42205)', async () => {
      const topic = `orders.protobuf-${id()}`;
      await createTopic(topic, 1);
      const schema = [
        'syntax = "proto3";',
        'package shop;',
        'message Order { string order_id = 1; int64 amount = 2; Status status = 3; }',
        'enum Status { NEW = 0; PAID = 1; }',
      ].join('\n');
      const ok = await api('POST', `/topics/${topic}`, {
        token: alice,
        contentType: PROTOBUF_V2,
        body: { value_schema: schema, records: [{ value: { order_id: 'o-1', amount: 12, status: 'PAID' } }] },
      });
      assert.equal(ok.status, 200, ok.text);
      assert.equal(typeof ok.json.value_schema_id, 'number');
      const bad = await api('POST', `/topics/${topic}`, {
        token: alice,
        contentType: PROTOBUF_V2,
        body: { value_schema_id: ok.json.value_schema_id, records: [{ value: { order_id: 5 } }] },
      });
      assert.equal(bad.status, 422, bad.text);
      assert.equal(bad.json.error_code, 42205);
      const instance = await createConsumer(alice, `alice-${id()}`, { format: 'protobuf' });
      await api('POST', `${instance}/subscription`, { token: alice, body: { topics: [topic] } });
      const records = await pollUntil(alice, instance, PROTOBUF_V2, 1);
      assert.deepEqual(records[0].value, { order_id: 'o-1', amount: 12, status: 'PAID' });
      await api('DELETE', instance, { token: alice });
    });

    it("refuses a schema id that is not registered under the topic's subject (42205)", async () => {
      const [one, two] = [`orders.subject-${id()}`, `orders.subject-${id()}`];
      await createTopic(one, 1);
      await createTopic(two, 1);
      const first = await api('POST', `/topics/${one}`, {
        token: alice,
        contentType: AVRO_V2,
        body: { value_schema: '"string"', records: [{ value: 'x' }] },
      });
      assert.equal(first.status, 200, first.text);
      const elsewhere = await api('POST', `/topics/${two}`, {
        token: alice,
        contentType: AVRO_V2,
        body: { value_schema_id: first.json.value_schema_id, records: [{ value: 'y' }] },
      });
      assert.equal(elsewhere.status, 422, elsewhere.text);
      assert.equal(elsewhere.json.error_code, 42205);
    });

    it("sends the caller's own token to the registry, so its roles apply per caller", async () => {
      // The stack's Karapace registry verifies bearer tokens and reads roles from registry_roles:
      // alice may write schemas, bob only read them, dave holds no role (deploy/stack/clients.yaml;
      // carol would do too, but rest-sessions needs her sessions to itself).
      const [bob, dave] = await Promise.all([tokenFor('bob'), tokenFor('dave')]);
      const topic = `orders.roles-${id()}`;
      await createTopic(topic, 1);
      const byAlice = await api('POST', `/topics/${topic}`, {
        token: alice,
        contentType: AVRO_V2,
        body: { value_schema: userV1, records: [{ value: { name: 'Ann', age: 3 } }] },
      });
      assert.equal(byAlice.status, 200, byAlice.text);
      const daveSchema = JSON.stringify({ type: 'record', name: 'C', fields: [{ name: 'c', type: 'int' }] });
      const byCarol = await api('POST', `/topics/${topic}`, {
        token: dave,
        contentType: AVRO_V2,
        body: { value_schema: daveSchema, records: [{ value: { c: 1 } }] },
      });
      assert.equal(byCarol.status, 408, byCarol.text);
      assert.equal(byCarol.json.error_code, 40801);
      // Reading: bob's token may fetch the schema, dave's may not, even after alice's use cached it.
      const bobInstance = await createConsumer(bob, `bob-${id()}`, { format: 'avro' });
      await api('POST', `${bobInstance}/subscription`, { token: bob, body: { topics: [topic] } });
      const records = await pollUntil(bob, bobInstance, AVRO_V2, 1);
      assert.deepEqual(records[0].value, { age: 3, name: 'Ann' });
      await api('DELETE', bobInstance, { token: bob });
      const daveInstance = await createConsumer(dave, `dave-${id()}`, { format: 'avro' });
      await api('POST', `${daveInstance}/subscription`, { token: dave, body: { topics: [topic] } });
      let res = await api('GET', `${daveInstance}/records?timeout=5000`, { token: dave, accept: AVRO_V2 });
      const end = Date.now() + 30_000;
      while (res.status === 200 && res.json.length === 0 && Date.now() < end) {
        res = await api('GET', `${daveInstance}/records?timeout=5000`, { token: dave, accept: AVRO_V2 });
      }
      assert.equal(res.status, 408, res.text);
      assert.equal(res.json.error_code, 40801);
      await api('DELETE', daveInstance, { token: dave });
    });

    it('answers 422 for a record whose schema id the registry does not know, and for one not in the wire format', async () => {
      const topic = `orders.unknown-id-${id()}`;
      await createTopic(topic, 1);
      // Written as binary: wire header with an id the registry never issued, then as plain bytes.
      const unknownId = Buffer.from([0, 0x7f, 0xff, 0xff, 0x00, 0x02]).toString('base64');
      const plain = Buffer.from('not avro').toString('base64');
      for (const value of [unknownId, plain]) {
        const res = await api('POST', `/topics/${topic}`, {
          token: alice,
          contentType: 'application/vnd.kafka.binary.v2+json',
          body: { records: [{ value }] },
        });
        assert.equal(res.status, 200, res.text);
      }
      const unknownProduce = await api('POST', `/topics/${topic}`, {
        token: alice,
        contentType: AVRO_V2,
        body: { value_schema_id: 2147483000, records: [{ value: 1 }] },
      });
      assert.equal(unknownProduce.json.error_code, 42205);
      const instance = await createConsumer(alice, `alice-${id()}`, { format: 'avro' });
      await api('POST', `${instance}/assignments`, {
        token: alice,
        body: { partitions: [{ topic, partition: 0 }] },
      });
      for (const offset of [0, 1]) {
        await api('POST', `${instance}/positions`, {
          token: alice,
          body: { offsets: [{ topic, partition: 0, offset }] },
        });
        let res = await api('GET', `${instance}/records?timeout=5000&max_bytes=6`, {
          token: alice,
          accept: AVRO_V2,
        });
        const end = Date.now() + 30_000;
        while (res.status === 200 && res.json.length === 0 && Date.now() < end) {
          res = await api('GET', `${instance}/records?timeout=5000&max_bytes=6`, {
            token: alice,
            accept: AVRO_V2,
          });
        }
        assert.equal(res.status, 422, `offset ${offset}: ${res.text}`);
        assert.equal(res.json.error_code, 422);
        assert.match(res.json.message, /value deserialization error for format avro/);
      }
      await api('DELETE', instance, { token: alice });
    });
  });
});
