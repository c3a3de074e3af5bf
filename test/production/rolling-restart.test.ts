import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { sleep, tokenFor } from '../integration/stack-env.ts';
import {
  consumeUntil,
  createLedger,
  createRestConsumer,
  type Ledger,
  produceUntil,
  type RestConsumer,
  readTopicKeys,
} from './load.ts';
import {
  type Client,
  createClient,
  createReplicatedTopic,
  partPid,
  stackScript,
  waitForFullIsr,
} from './prod-stack.ts';

// Issue 13: the failover users live through, on three brokers over SASL_SSL. Several principals
// produce (acks=all, idempotent) and consume through Envoy's TLS listener while each node is
// stopped gracefully and restarted in turn, then while one node is killed.

const run = randomUUID().slice(0, 8);
const NODES = ['kafka', 'kafka2', 'kafka3'] as const;
const OFFSETS_TOPIC = '__consumer_offsets';

interface Load {
  readonly ledger: Ledger;
  readonly consumers: Array<{ who: string; consumer: RestConsumer }>;
  stop(): Promise<void>;
}

async function startLoad(topic: string, clients: Client[]): Promise<Load> {
  const ledger = createLedger();
  const tokens = {
    alice: await tokenFor('alice', { ttl: '30m' }),
    carol: await tokenFor('carol', { ttl: '30m' }),
    bob: await tokenFor('bob', { ttl: '30m' }),
  };
  const [a, c, b] = clients as [Client, Client, Client];
  const consumers = [
    { who: 'alice', consumer: await createRestConsumer(a, tokens.alice, `alice-${run}-${topic}`, topic) },
    { who: 'bob', consumer: await createRestConsumer(b, tokens.bob, `bob-${run}-${topic}`, topic) },
  ];
  let stopped = false;
  const stop = () => stopped;
  const loops = [
    produceUntil('alice', a, tokens.alice, topic, ledger, stop),
    produceUntil('carol', c, tokens.carol, topic, ledger, stop),
    consumeUntil('alice', a, tokens.alice, consumers[0]!.consumer, stop),
    consumeUntil('bob', b, tokens.bob, consumers[1]!.consumer, stop),
  ];
  return {
    ledger,
    consumers,
    async stop() {
      stopped = true;
      await Promise.all(loops);
    },
  };
}

/** Lets the consumers catch up with every acknowledged record (the loops keep polling); the keys each still misses. */
async function waitForConsumers(load: Load, withinMs = 60_000): Promise<Map<string, string[]>> {
  const deadline = Date.now() + withinMs;
  const missing = new Map<string, string[]>();
  for (const { who, consumer } of load.consumers) {
    let left = [...load.ledger.acked].filter((key) => !consumer.seen.has(key));
    while (left.length > 0 && Date.now() < deadline) {
      await sleep(500);
      left = left.filter((key) => !consumer.seen.has(key));
    }
    if (left.length > 0) missing.set(who, left);
  }
  return missing;
}

/** Stored exactly once: nothing acknowledged lost, nothing duplicated by producer retries. */
async function assertStoredOnce(topic: string, ledger: Ledger): Promise<void> {
  const stored = await readTopicKeys(topic);
  // Each with where the gateway said it wrote it, for the investigation a failure starts.
  const missing = [...ledger.acked]
    .filter((key) => !stored.has(key))
    .map((key) => `${key} ${ledger.ackedAt.get(key)}`);
  const duplicated = [...stored].filter(([, count]) => count > 1).map(([key]) => key);
  assert.deepEqual(missing, [], 'acknowledged records missing from the topic');
  assert.deepEqual(duplicated, [], 'records stored more than once');
}

describe('production profile: broker failover under load (issue 13)', function () {
  // Three restarts, each waited out until every replica is back in sync.
  this.timeout(420_000);
  const clients: Client[] = [];

  before(() => {
    clients.push(createClient(), createClient(), createClient());
  });

  after(() => {
    for (const client of clients) client.close();
  });

  it('restarts every broker in turn without one failed request, lost or duplicated record', async () => {
    const topic = `orders.rolling-${run}`;
    await createReplicatedTopic(topic, 3);
    const load = await startLoad(topic, clients);
    let missing = new Map<string, string[]>();
    try {
      await sleep(3000);
      for (const node of NODES) {
        await waitForFullIsr([topic, OFFSETS_TOPIC]);
        const before = load.ledger.acked.size;
        const startedAt = Date.now();
        await stackScript('restart-part', node);
        const restartedAt = Date.now();
        await waitForFullIsr([topic, OFFSETS_TOPIC]);
        process.stdout.write(
          `      (${node}: restarted in ${restartedAt - startedAt} ms, replicas in sync ${Date.now() - restartedAt} ms later)\n`,
        );
        // The cluster kept taking writes across the restart, not only after it.
        assert.ok(load.ledger.acked.size > before, `no record acknowledged while ${node} restarted`);
      }
      await sleep(2000);
    } finally {
      missing = await waitForConsumers(load).finally(() => load.stop());
    }
    await assertStoredOnce(topic, load.ledger);
    assert.deepEqual(load.ledger.failures, [], 'failed produce requests');
    assert.equal(load.ledger.partial, 0, 'partly written produce requests during a graceful restart');
    assert.deepEqual(Object.fromEntries(missing), {}, 'acknowledged records a consumer never received');
    for (const { who, consumer } of load.consumers) {
      assert.deepEqual(consumer.failures, [], `failed record polls of ${who}'s consumer`);
      assert.ok(consumer.polls > 10, `${who}'s consumer kept polling`);
    }
    assert.ok(load.ledger.acked.size > 100, `only ${load.ledger.acked.size} records acknowledged`);
    // The same instances from start to end: each still answers.
    for (const [i, { consumer }] of load.consumers.entries()) {
      const token = await tokenFor(i === 0 ? 'alice' : 'bob');
      const res = await clients[i === 0 ? 0 : 2]!.call('DELETE', consumer.instancePath, { token });
      assert.equal(res.status, 204);
    }
  });

  it('answers a killed broker with retryable 503s at worst, and loses nothing acknowledged', async () => {
    const topic = `orders.crash-${run}`;
    await createReplicatedTopic(topic, 3);
    await waitForFullIsr([topic, OFFSETS_TOPIC]);
    const load = await startLoad(topic, clients);
    let missing = new Map<string, string[]>();
    try {
      await sleep(3000);
      // SIGKILL the whole process group: no controlled shutdown, no flush.
      process.kill(-partPid('kafka3'), 'SIGKILL');
      await sleep(15_000);
      await stackScript('restart-part', 'kafka3');
      await waitForFullIsr([topic, OFFSETS_TOPIC]);
      await sleep(2000);
    } finally {
      missing = await waitForConsumers(load).finally(() => load.stop());
    }
    await assertStoredOnce(topic, load.ledger);
    assert.deepEqual(Object.fromEntries(missing), {}, 'acknowledged records a consumer never received');
    const failures = [...load.ledger.failures, ...load.consumers.flatMap((c) => c.consumer.failures)];
    for (const f of failures) {
      assert.equal(f.status, 503, `a failed request must be a retryable 503: ${JSON.stringify(f)}`);
      assert.ok(Number(f.retryAfter) > 0, `503 without Retry-After: ${JSON.stringify(f)}`);
    }
    process.stdout.write(
      `      (kill: ${load.ledger.requests} produce requests, ${load.ledger.failures.length} answered 503, ` +
        `${load.ledger.partial} partly written (422, the rest retriable); ` +
        `${load.ledger.acked.size} records acknowledged and stored once)\n`,
    );
  });
});
