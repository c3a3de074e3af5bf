import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import pino from 'pino';
import { parseConfig } from '../../src/config/load.ts';
import {
  ConsumerInstance,
  type ConsumerInstanceOptions,
  type FetchedRecord,
} from '../../src/kafka/consumer-instance.ts';
import { KafkaSession } from '../../src/kafka/session.ts';
import { sleep, stackValue, tokenFor } from './stack-env.ts';

// The REST consumer instance over kafkajs, on the real broker with OAUTHBEARER and ACLs: alice
// reads orders.* with groups alice-*, bob reads orders.* with groups bob-*.

const logger = pino({ level: 'warn' });
const config = parseConfig({
  issuers: [{ issuer: stackValue('ISSUER_URL'), audiences: ['kafka'] }],
  kafka: { brokers: [stackValue('KAFKA_BOOTSTRAP')] },
});

const run = randomUUID().slice(0, 8);
const topicName = (label: string) => `orders.t-${run}-${label}`;
const groupName = (label: string) => `alice-${run}-${label}`;

async function sessionFor(principal: string): Promise<KafkaSession> {
  const token = await tokenFor(principal, { ttl: '10m' });
  return new KafkaSession(
    `test-${principal}-${run}`,
    { issuer: stackValue('ISSUER_URL'), principal },
    { token, expiresAtMs: Date.now() + 9 * 60_000 },
    config.kafka,
    logger,
    { now: Date.now },
  );
}

const key = (r: FetchedRecord) => `${r.topic}/${r.partition}@${r.offset}`;

/** Polls until `count` records arrived or `withinMs` passed. */
async function drain(
  instance: ConsumerInstance,
  count: number,
  {
    maxBytes = 1 << 20,
    withinMs = 15_000,
    onPoll,
  }: { maxBytes?: number; withinMs?: number; onPoll?: () => void } = {},
): Promise<FetchedRecord[]> {
  const out: FetchedRecord[] = [];
  const end = Date.now() + withinMs;
  while (out.length < count && Date.now() < end) {
    out.push(...(await instance.fetch(1000, maxBytes)));
    onPoll?.();
  }
  return out;
}

function assertOffsetOrder(records: FetchedRecord[]): void {
  const last = new Map<string, number>();
  for (const r of records) {
    const tp = `${r.topic}/${r.partition}`;
    assert.ok((last.get(tp) ?? -1) < r.offset, `${key(r)} comes after offset ${last.get(tp)}`);
    last.set(tp, r.offset);
  }
}

function assertExactlyOnce(records: FetchedRecord[], expected: number): void {
  const keys = records.map(key);
  assert.equal(new Set(keys).size, keys.length, 'no record delivered twice');
  assert.equal(keys.length, expected, 'every record delivered');
}

async function rejectionCode(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
  assert.fail('expected a rejection');
}

describe('ConsumerInstance on the stack', function () {
  this.timeout(60_000);

  let adminSession: KafkaSession;
  let alice: KafkaSession;
  const topics: string[] = [];
  const instances: ConsumerInstance[] = [];

  async function createTopic(label: string, partitions = 3): Promise<string> {
    const topic = topicName(label);
    const admin = await adminSession.getAdmin();
    await admin.createTopics({
      topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }],
      waitForLeaders: true,
    });
    topics.push(topic);
    return topic;
  }

  async function produce(
    topic: string,
    messages: Array<{
      partition: number;
      key?: Buffer | string | null;
      value: Buffer | string | null;
      headers?: Record<string, string>;
    }>,
  ): Promise<void> {
    const producer = await alice.getProducer();
    await producer.send({ topic, acks: -1, messages });
  }

  function consumer(session: KafkaSession, group: string, options: Partial<ConsumerInstanceOptions> = {}) {
    const instance = new ConsumerInstance(
      session,
      {
        group,
        name: `i-${randomUUID().slice(0, 6)}`,
        format: 'binary',
        autoOffsetReset: 'earliest',
        autoCommit: false,
        fetchMinBytes: 1,
        requestTimeoutMs: 1000,
        bufferMaxBytes: 1 << 20,
        ...options,
      },
      logger,
    );
    instances.push(instance);
    return instance;
  }

  before(async () => {
    adminSession = await sessionFor('admin');
    alice = await sessionFor('alice');
  });

  afterEach(async () => {
    await Promise.all(instances.splice(0).map((i) => i.close('shutdown')));
  });

  after(async () => {
    const admin = await adminSession.getAdmin();
    await admin.deleteTopics({ topics }).catch(() => {});
    await alice.close('shutdown');
    await adminSession.close('shutdown');
  });

  it('delivers binary values, keys and headers of several partitions intact and in offset order', async () => {
    const topic = await createTopic('roundtrip');
    const sent = new Map<string, { key: Buffer; value: Buffer }>();
    const messages = [];
    for (let i = 0; i < 15; i++) {
      const partition = i % 3;
      const value = Buffer.concat([Buffer.from([0, 255, 10, 13]), randomBytes(32)]);
      const k = Buffer.from(`k${i}`);
      messages.push({ partition, key: k, value, headers: { trace: `t${i}` } });
      sent.set(`${partition}/${k}`, { key: k, value });
    }
    await produce(topic, messages);

    const instance = consumer(alice, groupName('roundtrip'));
    await instance.subscribe({ topics: [topic] });
    assert.deepEqual(instance.subscription(), [topic]);
    assert.equal(instance.assignment().length, 3);
    const records = await drain(instance, 15);
    assertExactlyOnce(records, 15);
    assertOffsetOrder(records);
    assert.deepEqual(new Set(records.map((r) => r.partition)), new Set([0, 1, 2]));
    for (const r of records) {
      const expected = sent.get(`${r.partition}/${r.key}`);
      assert.ok(expected, `record ${key(r)} was sent`);
      assert.ok(r.value?.equals(expected.value), 'value bytes intact');
      assert.equal(typeof r.timestamp, 'number');
      assert.equal(r.headers[0]?.key, 'trace');
      assert.equal(r.headers[0]?.value?.toString(), `t${r.key?.toString().slice(1)}`);
    }
  });

  it('splits by max_bytes across polls without losing or repeating a record', async () => {
    const topic = await createTopic('maxbytes', 1);
    await produce(
      topic,
      Array.from({ length: 30 }, (_, i) => ({ partition: 0, key: null, value: Buffer.alloc(100, i) })),
    );
    await produce(topic, [{ partition: 0, key: null, value: Buffer.alloc(1000, 7) }]);
    const instance = consumer(alice, groupName('maxbytes'));
    await instance.subscribe({ topics: [topic] });
    const records: FetchedRecord[] = [];
    const end = Date.now() + 15_000;
    let polls = 0;
    while (records.length < 30 && Date.now() < end) {
      const got = await instance.fetch(1000, 250);
      const bytes = got.reduce((sum, r) => sum + (r.value?.length ?? 0), 0);
      assert.ok(bytes <= 250, `a poll returned ${bytes} bytes`);
      records.push(...got);
      polls++;
    }
    assert.ok(polls >= 15, 'two records of 100 bytes per poll of 250');
    assertExactlyOnce(records, 30);
    assert.deepEqual(
      records.map((r) => r.offset),
      Array.from({ length: 30 }, (_, i) => i),
    );
    const big = await instance.fetch(1000, 10);
    assert.equal(big.length, 1, 'a record larger than max_bytes still comes, alone');
    assert.equal(big[0]?.value?.length, 1000);
  });

  it('waits out the timeout when there are no records, and answers 0 at once', async () => {
    const topic = await createTopic('empty', 1);
    const instance = consumer(alice, groupName('empty'));
    await instance.subscribe({ topics: [topic] });
    let start = Date.now();
    assert.deepEqual(await instance.fetch(800, 1 << 20), []);
    const waited = Date.now() - start;
    assert.ok(waited >= 780 && waited < 1500, `waited ${waited} ms for a timeout of 800`);
    start = Date.now();
    assert.deepEqual(await instance.fetch(0, 1 << 20), []);
    assert.deepEqual(await instance.fetch(5000, 0), []);
    assert.ok(Date.now() - start < 50);
  });

  it('answers as soon as a record arrives instead of waiting out the timeout', async () => {
    const topic = await createTopic('early', 1);
    const instance = consumer(alice, groupName('early'));
    await instance.subscribe({ topics: [topic] });
    const start = Date.now();
    setTimeout(() => void produce(topic, [{ partition: 0, value: 'late' }]), 300);
    const records = await instance.fetch(10_000, 1 << 20);
    assert.equal(records.length, 1);
    assert.ok(Date.now() - start < 5000, 'answered long before the 10 s timeout');
  });

  it('pauses fetching while the buffer is full and still delivers everything exactly once', async () => {
    const topic = await createTopic('cap');
    const total = 400;
    for (let i = 0; i < total; i += 10) {
      await produce(
        topic,
        Array.from({ length: 10 }, (_, j) => ({ partition: (i + j) % 3, value: Buffer.alloc(1024, j) })),
      );
    }
    const cap = 16 * 1024;
    const instance = consumer(alice, groupName('cap'), { bufferMaxBytes: cap });
    await instance.subscribe({ topics: [topic] });
    await sleep(1500);
    // Bounded: the cap plus at most one fetch response (a batch may overshoot by itself).
    const bound = 4 * cap;
    assert.ok(instance.fetchPaused, 'fetching paused while nobody polls');
    assert.ok(instance.bufferedBytes <= bound, `buffered ${instance.bufferedBytes} bytes, cap ${cap}`);
    let peak = instance.bufferedBytes;
    const records = await drain(instance, total, {
      maxBytes: 8 * 1024,
      withinMs: 30_000,
      onPoll: () => {
        peak = Math.max(peak, instance.bufferedBytes);
      },
    });
    assert.ok(peak <= bound, `peak buffer ${peak} bytes`);
    assertExactlyOnce(records, total);
    assertOffsetOrder(records);
  });

  it('resumes exactly after explicitly committed offsets in a new instance of the group', async () => {
    const topic = await createTopic('resume');
    await produce(
      topic,
      Array.from({ length: 12 }, (_, i) => ({ partition: i % 3, value: `v${i}` })),
    );
    const group = groupName('resume');
    const first = consumer(alice, group);
    await first.subscribe({ topics: [topic] });
    const part1 = await drain(first, 5, { maxBytes: 1 });
    assert.ok(part1.length >= 5);
    // Commit what was processed: the last offset of each partition seen.
    const last = new Map<number, number>();
    for (const r of part1) last.set(r.partition, r.offset);
    await first.commit([...last].map(([partition, offset]) => ({ topic, partition, offset })));
    const committed = await first.committed([0, 1, 2].map((partition) => ({ topic, partition })));
    for (const c of committed)
      assert.equal(c.offset, last.has(c.partition) ? last.get(c.partition)! + 1 : -1);
    await first.close('shutdown');

    const second = consumer(alice, group);
    await second.subscribe({ topics: [topic] });
    const part2 = await drain(second, 12 - part1.length);
    assertExactlyOnce([...part1, ...part2], 12);
    assert.deepEqual(await second.fetch(300, 1 << 20), []);
  });

  it('commits the delivered positions without offsets, and on close with auto-commit', async () => {
    const topic = await createTopic('autocommit', 1);
    await produce(
      topic,
      Array.from({ length: 10 }, (_, i) => ({ partition: 0, value: `v${i}` })),
    );
    const group = groupName('autocommit');
    const manual = consumer(alice, group);
    await manual.subscribe({ topics: [topic] });
    assert.equal((await manual.fetch(2000, 2)).length, 1);
    await manual.commit();
    assert.equal((await manual.committed([{ topic, partition: 0 }]))[0]?.offset, 1);
    await manual.close('shutdown');

    const auto = consumer(alice, group, { autoCommit: true, autoCommitIntervalMs: 60_000 });
    await auto.subscribe({ topics: [topic] });
    const got = await drain(auto, 3, { maxBytes: 2 });
    assert.deepEqual(
      got.map((r) => r.offset),
      [1, 2, 3],
    );
    await auto.close('shutdown');
    const reader = consumer(alice, group);
    assert.equal(
      (await reader.committed([{ topic, partition: 0 }]))[0]?.offset,
      4,
      'close committed the position',
    );
  });

  it('commits explicit offsets without subscribing, and names unknown topics and partitions', async () => {
    const topic = await createTopic('visitor', 2);
    const group = groupName('visitor');
    const instance = consumer(alice, group);
    await instance.commit([
      { topic, partition: 0, offset: 4 },
      { topic, partition: 1, offset: 0 },
    ]);
    assert.deepEqual(
      (await instance.committed([0, 1].map((partition) => ({ topic, partition })))).map((c) => c.offset),
      [5, 1],
    );
    const admin = await adminSession.getAdmin();
    assert.equal(
      (await admin.describeGroups([group])).groups[0]?.members.length,
      0,
      'it did not stay in the group',
    );
    assert.equal(
      await rejectionCode(instance.commit([{ topic, partition: 5, offset: 0 }])),
      'PARTITION_NOT_FOUND',
    );
    assert.equal(
      await rejectionCode(instance.commit([{ topic: topicName('missing'), partition: 0, offset: 0 }])),
      'TOPIC_NOT_FOUND',
    );
  });

  it('gives each subscriber of a group the partitions of its own topics', async () => {
    const left = await createTopic('mixed-left', 2);
    const right = await createTopic('mixed-right', 2);
    const group = groupName('mixed');
    const one = consumer(alice, group);
    const two = consumer(alice, group);
    await one.subscribe({ topics: [left] });
    await two.subscribe({ topics: [right] });
    const end = Date.now() + 15_000;
    while ((one.assignment().length !== 2 || two.assignment().length !== 2) && Date.now() < end)
      await sleep(200);
    assert.deepEqual(new Set(one.assignment().map((tp) => tp.topic)), new Set([left]));
    assert.deepEqual(new Set(two.assignment().map((tp) => tp.topic)), new Set([right]));
  });

  it('replaces a subscription, and forgets it on unsubscribe', async () => {
    const first = await createTopic('replace-a', 1);
    const second = await createTopic('replace-b', 1);
    await produce(first, [{ partition: 0, value: 'a' }]);
    await produce(second, [{ partition: 0, value: 'b' }]);
    const instance = consumer(alice, groupName('replace'));
    await instance.subscribe({ topics: [first] });
    await sleep(500);
    await instance.subscribe({ topics: [second] });
    assert.deepEqual(instance.subscription(), [second]);
    assert.deepEqual(instance.assignment(), [{ topic: second, partition: 0 }]);
    const records = await drain(instance, 1);
    assert.deepEqual(records.map(key), [`${second}/0@0`], 'records of the old subscription are gone');
    await instance.unsubscribe();
    assert.deepEqual(instance.subscription(), []);
    assert.deepEqual(instance.assignment(), []);
    await produce(second, [{ partition: 0, value: 'b2' }]);
    assert.deepEqual(await instance.fetch(500, 1 << 20), []);
  });

  it('subscribes by pattern, and picks up a matching topic created later', async () => {
    const one = await createTopic('pat-one', 1);
    const two = await createTopic('pat-two', 1);
    await produce(one, [{ partition: 0, value: '1' }]);
    await produce(two, [{ partition: 0, value: '2' }]);
    const instance = consumer(alice, groupName('pattern'), { topicRefreshIntervalMs: 1000 });
    await instance.subscribe({ pattern: new RegExp(`^orders\\.t-${run}-pat-.*$`) });
    assert.deepEqual(instance.subscription(), [one, two]);
    assert.deepEqual((await drain(instance, 2)).map((r) => r.topic).sort(), [one, two]);
    const three = await createTopic('pat-three', 1);
    await produce(three, [{ partition: 0, value: '3' }]);
    const records = await drain(instance, 1, { withinMs: 20_000 });
    assert.deepEqual(records.map(key), [`${three}/0@0`]);
    assert.deepEqual(instance.subscription(), [three, one, two].sort());
  });

  it('seeks to an offset, to the beginning and to the end', async () => {
    const topic = await createTopic('seek', 1);
    await produce(
      topic,
      Array.from({ length: 10 }, (_, i) => ({ partition: 0, value: `v${i}` })),
    );
    const instance = consumer(alice, groupName('seek'));
    await instance.subscribe({ topics: [topic] });
    assert.equal((await drain(instance, 10)).length, 10);
    const tp = { topic, partition: 0 };

    await instance.seek([{ ...tp, offset: 3 }]);
    assert.deepEqual(
      (await drain(instance, 7)).map((r) => r.offset),
      [3, 4, 5, 6, 7, 8, 9],
    );
    await instance.seekToBeginning([tp]);
    assert.deepEqual(
      (await drain(instance, 10)).map((r) => r.offset),
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    );
    await instance.seekToBeginning([tp]);
    await instance.seekToEnd([tp]);
    assert.deepEqual(await instance.fetch(500, 1 << 20), [], 'nothing after the end');
    await produce(topic, [{ partition: 0, value: 'v10' }]);
    assert.deepEqual(
      (await drain(instance, 1)).map((r) => r.offset),
      [10],
    );
    assert.equal(
      await rejectionCode(instance.seek([{ topic, partition: 7, offset: 0 }])),
      'CONSUMER_STATE_INVALID',
    );
  });

  it('drops buffered records of a seeked partition: none of them is returned', async () => {
    const topic = await createTopic('seek-buffered', 1);
    await produce(
      topic,
      Array.from({ length: 20 }, (_, i) => ({ partition: 0, value: `v${i}` })),
    );
    const instance = consumer(alice, groupName('seekbuf'));
    await instance.subscribe({ topics: [topic] });
    assert.equal((await instance.fetch(2000, 1)).length, 1);
    await sleep(300);
    await instance.seek([{ topic, partition: 0, offset: 15 }]);
    assert.deepEqual(
      (await drain(instance, 5)).map((r) => r.offset),
      [15, 16, 17, 18, 19],
    );
  });

  it('assigns partitions manually, commits them, and shares the group with another assigned instance', async () => {
    const topic = await createTopic('assign');
    await produce(
      topic,
      Array.from({ length: 12 }, (_, i) => ({ partition: i % 3, value: `v${i}` })),
    );
    const group = groupName('assign');
    const one = consumer(alice, group);
    await one.assign([{ topic, partition: 1 }]);
    assert.deepEqual(one.assignment(), [{ topic, partition: 1 }]);
    assert.deepEqual(one.subscription(), []);
    const two = consumer(alice, group);
    await two.assign([
      { topic, partition: 0 },
      { topic, partition: 2 },
    ]);
    const got1 = await drain(one, 4);
    const got2 = await drain(two, 8);
    assert.deepEqual(new Set(got1.map((r) => r.partition)), new Set([1]));
    assert.deepEqual(new Set(got2.map((r) => r.partition)), new Set([0, 2]));
    assertExactlyOnce([...got1, ...got2], 12);

    await one.seek([{ topic, partition: 1, offset: 2 }]);
    await one.commit();
    await one.close('shutdown');
    const again = consumer(alice, group);
    assert.equal((await again.committed([{ topic, partition: 1 }]))[0]?.offset, 2);
    await again.assign([{ topic, partition: 1 }]);
    assert.deepEqual(
      (await drain(again, 2)).map((r) => r.offset),
      [2, 3],
    );

    assert.equal(await rejectionCode(again.assign([{ topic, partition: 9 }])), 'PARTITION_NOT_FOUND');
    assert.equal(
      await rejectionCode(again.assign([{ topic: topicName('nope'), partition: 0 }])),
      'TOPIC_NOT_FOUND',
    );
    await again.unsubscribe();
    assert.deepEqual(again.assignment(), []);
    const subscribed = consumer(alice, groupName('assign-sub'));
    await subscribed.subscribe({ topics: [topic] });
    assert.equal(await rejectionCode(subscribed.assign([{ topic, partition: 0 }])), 'CONSUMER_STATE_INVALID');
  });

  it('splits partitions between two subscribers of one group, dropping records of revoked partitions', async () => {
    const topic = await createTopic('rebalance');
    await produce(
      topic,
      Array.from({ length: 30 }, (_, i) => ({ partition: i % 3, value: `v${i}` })),
    );
    const group = groupName('rebalance');
    const one = consumer(alice, group);
    await one.subscribe({ topics: [topic] });
    await sleep(500);
    assert.ok(one.bufferedBytes > 0, 'the first instance buffered all partitions');
    const two = consumer(alice, group);
    await two.subscribe({ topics: [topic] });
    // The first member learns of the rebalance at its next heartbeat (3 s) and rejoins.
    const end = Date.now() + 15_000;
    while (one.assignment().length + two.assignment().length !== 3 && Date.now() < end) await sleep(200);
    assert.equal(one.assignment().length + two.assignment().length, 3);
    const mine = new Set(one.assignment().map((tp) => tp.partition));
    const got1 = await drain(one, 10 * mine.size);
    const got2 = await drain(two, 30 - 10 * mine.size);
    assert.ok(
      got1.every((r) => mine.has(r.partition)),
      'only partitions still assigned',
    );
    assertExactlyOnce([...got1, ...got2], 30);
  });

  it('answers KAFKA_AUTHZ_FAILED when bob uses one of alice’s groups', async () => {
    const bob = await sessionFor('bob');
    try {
      const instance = consumer(bob, groupName('bob'));
      assert.equal(await rejectionCode(instance.subscribe({ topics: ['orders.eu'] })), 'KAFKA_AUTHZ_FAILED');
      assert.deepEqual(instance.subscription(), []);
      assert.equal(
        await rejectionCode(instance.committed([{ topic: 'orders.eu', partition: 0 }])),
        'KAFKA_AUTHZ_FAILED',
      );
    } finally {
      await Promise.all(instances.splice(0).map((i) => i.close('shutdown')));
      await bob.close('shutdown');
    }
  });

  it('leaves the group promptly on close', async () => {
    const topic = await createTopic('leave', 1);
    const group = groupName('leave');
    const instance = consumer(alice, group);
    await instance.subscribe({ topics: [topic] });
    const admin = await adminSession.getAdmin();
    const before = (await admin.describeGroups([group])).groups[0];
    assert.equal(before?.members.length, 1);
    const start = Date.now();
    await instance.close('shutdown');
    assert.ok(Date.now() - start < 3000, `close took ${Date.now() - start} ms`);
    const after = (await admin.describeGroups([group])).groups[0];
    assert.equal(after?.state, 'Empty');
    assert.equal(after?.members.length, 0);
    assert.equal(await rejectionCode(instance.fetch(100, 100)), 'CONSUMER_NOT_FOUND');
  });
});
