import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import kafkajs from 'kafkajs';
import { api, createConsumer, JSON_V2 } from './rest-client.ts';
import { createTopic, sleep, stackValue, tokenFor } from './stack-env.ts';

// Session lifecycle on the real stack: token refresh keeps consumers alive, an unrefreshed token
// closes its session, and a graceful shutdown loses no acknowledged record.

async function metricValue(name: string, labels: string): Promise<number> {
  const text = await (await fetch(`${stackValue('METRICS_URL')}/metrics`)).text();
  const line = text
    .split('\n')
    .find((l) => l.startsWith(`${name}{${labels}}`) || (labels === '' && l.startsWith(`${name} `)));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

describe('REST sessions', function () {
  this.timeout(120_000);

  it('keeps a consumer reading across token refreshes, without losing or repeating records', async () => {
    // carol is used by this test alone, always with 20-second tokens.
    const topic = `orders.refresh-${randomUUID().slice(0, 8)}`;
    await createTopic(topic, 2);
    let token = await tokenFor('carol', { ttl: '20s' });
    const swapsBefore = await metricValue('tollgate_kafka_token_swaps_total', '');
    const group = `carol-${randomUUID().slice(0, 8)}`;
    const path = await createConsumer(token, group, { format: 'json', 'auto.commit.enable': 'false' });
    assert.equal(
      (await api('POST', `${path}/subscription`, { token, body: { topics: [topic] } })).status,
      204,
    );
    const run = randomUUID();
    const seen: number[] = [];
    let sent = 0;
    const started = Date.now();
    let refreshedAt = Date.now();
    // ~35 s: the first token expires mid-way; each new one is fetched 10 s after the last.
    while (Date.now() - started < 35_000) {
      if (Date.now() - refreshedAt > 10_000) {
        token = await tokenFor('carol', { ttl: '20s' });
        refreshedAt = Date.now();
      }
      const produced = await api('POST', `/topics/${topic}`, {
        token,
        body: { records: [{ value: { run, n: sent } }] },
      });
      assert.equal(produced.status, 200, produced.text);
      sent++;
      const res = await api('GET', `${path}/records?timeout=500`, { token, accept: JSON_V2 });
      assert.equal(res.status, 200, `the instance survives the refresh: ${res.text}`);
      for (const r of res.json) if (r.value?.run === run) seen.push(r.value.n);
    }
    const end = Date.now() + 15_000;
    while (seen.length < sent && Date.now() < end) {
      const res = await api('GET', `${path}/records?timeout=1000`, { token, accept: JSON_V2 });
      for (const r of res.json) if (r.value?.run === run) seen.push(r.value.n);
    }
    assert.deepEqual(
      [...seen].sort((a, b) => a - b),
      Array.from({ length: sent }, (_, i) => i),
      'each record once',
    );
    assert.ok(
      (await metricValue('tollgate_kafka_token_swaps_total', '')) > swapsBefore,
      'the session swapped tokens',
    );
    await api('DELETE', path, { token });
  });

  it('closes a session whose token expires without refresh, and refuses the expired token', async () => {
    const before = await metricValue('tollgate_kafka_sessions_closed_total', 'reason="expired"');
    // The tollgate client is used by this test alone; its token lives 12 s, the margin is 2 s.
    const token = await tokenFor('tollgate', { ttl: '12s' });
    const res = await api('GET', '/topics', { token });
    assert.equal(res.status, 200);
    await sleep(11_000);
    assert.ok(
      (await metricValue('tollgate_kafka_sessions_closed_total', 'reason="expired"')) > before,
      'the session closed at exp minus the margin',
    );
    await sleep(2_000);
    const late = await api('GET', '/topics', { token });
    assert.equal(late.status, 401);
    assert.equal(late.json.error_code, 40101);
  });

  it('loses no acknowledged record when tollgate shuts down under a produce loop', async () => {
    const admin = new kafkajs.Kafka({
      clientId: 'shutdown-test',
      brokers: [stackValue('KAFKA_BOOTSTRAP')],
      sasl: {
        mechanism: 'oauthbearer',
        oauthBearerProvider: async () => ({ value: await tokenFor('admin') }),
      },
      logLevel: kafkajs.logLevel.NOTHING,
    });
    const topic = `orders.shutdown-${randomUUID().slice(0, 8)}`;
    const adminClient = admin.admin();
    await adminClient.connect();
    await adminClient.createTopics({
      topics: [{ topic, numPartitions: 2, replicationFactor: 1 }],
      waitForLeaders: true,
    });

    const token = await tokenFor('alice');
    const acknowledged = new Set<string>();
    let stop = false;
    const producers = Array.from({ length: 4 }, async () => {
      while (!stop) {
        const id = randomUUID();
        const res = await api('POST', `/topics/${topic}`, {
          token,
          body: { records: [{ value: id }] },
        }).catch(() => null);
        if (res?.status === 200) acknowledged.add(id);
        else await sleep(100);
      }
    });
    await sleep(1_500);
    // SIGTERM tollgate (then start it again) while the loop runs.
    execFileSync('deploy/stack/stack.sh', ['restart-part', 'tollgate'], { stdio: 'pipe' });
    await sleep(1_500);
    stop = true;
    await Promise.all(producers);
    assert.ok(acknowledged.size > 10, `records were acknowledged (${acknowledged.size})`);

    const found = new Set<string>();
    const consumer = admin.consumer({ groupId: `shutdown-check-${randomUUID().slice(0, 8)}` });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const offsets = await adminClient.fetchTopicOffsets(topic);
    const total = offsets.reduce((sum, o) => sum + Number(o.high), 0);
    await new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async ({ message }) => {
          found.add(JSON.parse(message.value!.toString()) as string); // written in the json format
          if (found.size >= total) resolve();
        },
      });
    });
    await consumer.disconnect();
    await adminClient.deleteTopics({ topics: [topic] });
    await adminClient.disconnect();
    const missing = [...acknowledged].filter((id) => !found.has(id));
    assert.deepEqual(missing, [], 'every acknowledged record is in Kafka');
  });
});
