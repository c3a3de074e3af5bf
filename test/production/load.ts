import { randomUUID } from 'node:crypto';
import kafkajs from 'kafkajs';
import { sleep } from '../integration/stack-env.ts';
import { adminKafka, type Client } from './prod-stack.ts';

/**
 * Load through Envoy for the failover tests: producers that keep a ledger of every record the
 * gateway acknowledged and every request that failed, and REST consumers that keep every
 * record they saw. Each record's key is unique (`producer-seq`), so loss and duplication are
 * counted exactly.
 */

const JSON_V2 = 'application/vnd.kafka.json.v2+json';

export interface Failure {
  readonly who: string;
  readonly status: number;
  readonly text: string;
  readonly retryAfter: string | undefined;
  readonly atMs: number;
}

export interface Ledger {
  readonly acked: Set<string>;
  /** Where the gateway said each acknowledged record went: `partition@offset`, with the time. */
  readonly ackedAt: Map<string, string>;
  readonly failures: Failure[];
  requests: number;
  /**
   * Requests answered the contract's 422 with some records written and every other one marked
   * retriable (error_code 2): a send spanning a killed broker's partitions. Written ones count
   * as acknowledged.
   */
  partial: number;
}

export function createLedger(): Ledger {
  return { acked: new Set(), ackedAt: new Map(), failures: [], requests: 0, partial: 0 };
}

function failure(who: string, status: number, text: string, retryAfter?: string | string[]): Failure {
  return {
    who,
    status,
    text: text.slice(0, 300),
    retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
    atMs: Date.now(),
  };
}

/** Produces batches of `batchSize` records until `stop()`; acks=all, idempotent (the gateway's producer). */
export async function produceUntil(
  who: string,
  client: Client,
  token: string,
  topic: string,
  ledger: Ledger,
  stop: () => boolean,
  batchSize = 5,
): Promise<void> {
  let seq = 0;
  while (!stop()) {
    const keys = Array.from({ length: batchSize }, () => `${who}-${seq++}`);
    const records = keys.map((key) => ({ key, value: { key, producer: who } }));
    ledger.requests++;
    try {
      const res = await client.call('POST', `/topics/${topic}`, { token, body: { records } });
      const offsets = res.json?.offsets as Array<{ error_code: number | null }> | undefined;
      if (
        res.status === 200 &&
        offsets?.length === keys.length &&
        offsets.every((o) => o.error_code === null)
      ) {
        for (const key of keys) ledger.acked.add(key);
      } else if (
        res.status === 422 &&
        offsets?.length === keys.length &&
        offsets.some((o) => o.error_code === null) &&
        offsets.every((o) => o.error_code === null || o.error_code === 2)
      ) {
        ledger.partial++;
        offsets.forEach((o, i) => {
          if (o.error_code === null) ledger.acked.add(keys[i]!);
        });
      } else {
        ledger.failures.push(failure(who, res.status, res.text, res.headers['retry-after']));
      }
    } catch (err) {
      ledger.failures.push(failure(who, 0, (err as Error).message));
    }
    await sleep(50);
  }
}

export interface RestConsumer {
  readonly seen: Map<string, number>;
  readonly failures: Failure[];
  polls: number;
  /** Path of the instance: the same one from start to end (never re-created). */
  readonly instancePath: string;
}

/** Creates a consumer instance in `group`, subscribes it to `topic`, and returns its state. */
export async function createRestConsumer(
  client: Client,
  token: string,
  group: string,
  topic: string,
): Promise<RestConsumer> {
  const name = `i-${randomUUID().slice(0, 8)}`;
  const created = await client.call('POST', `/consumers/${group}`, {
    token,
    body: { name, format: 'json', 'auto.offset.reset': 'earliest' },
  });
  if (created.status !== 200) throw new Error(`create consumer: ${created.status} ${created.text}`);
  const instancePath = `/consumers/${group}/instances/${name}`;
  const subscribed = await client.call('POST', `${instancePath}/subscription`, {
    token,
    body: { topics: [topic] },
  });
  if (subscribed.status !== 204) throw new Error(`subscribe: ${subscribed.status} ${subscribed.text}`);
  return { seen: new Map(), failures: [], polls: 0, instancePath };
}

/** Polls records until `stop()`, counting every key it receives. */
export async function consumeUntil(
  who: string,
  client: Client,
  token: string,
  consumer: RestConsumer,
  stop: () => boolean,
): Promise<void> {
  while (!stop()) {
    consumer.polls++;
    try {
      const res = await client.call('GET', `${consumer.instancePath}/records?timeout=1000`, {
        token,
        accept: JSON_V2,
      });
      if (res.status !== 200) {
        consumer.failures.push(failure(who, res.status, res.text, res.headers['retry-after']));
        await sleep(500);
        continue;
      }
      for (const record of res.json as Array<{ key: string }>) {
        consumer.seen.set(record.key, (consumer.seen.get(record.key) ?? 0) + 1);
      }
    } catch (err) {
      consumer.failures.push(failure(who, 0, (err as Error).message));
      await sleep(500);
    }
  }
}

/** Every key in `topic` and how often it is stored, read directly by the admin to the high watermarks. */
export async function readTopicKeys(topic: string, withinMs = 60_000): Promise<Map<string, number>> {
  const kafka = adminKafka();
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const remaining = new Map(ends.map((p) => [p.partition, Number(p.high)]));
  for (const [partition, high] of remaining) if (high === 0) remaining.delete(partition);
  const counts = new Map<string, number>();
  if (remaining.size === 0) return counts;
  const consumer = kafka.consumer({ groupId: `verify-${randomUUID()}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`read ${topic}: not at the end after ${withinMs} ms`)),
      withinMs,
    );
    void consumer.run({
      eachMessage: async ({ partition, message }) => {
        // The json embedded format stores keys as JSON text.
        const key = JSON.parse(message.key?.toString() ?? 'null') as string;
        counts.set(key, (counts.get(key) ?? 0) + 1);
        const high = remaining.get(partition);
        if (high !== undefined && Number(message.offset) + 1 >= high) remaining.delete(partition);
        if (remaining.size === 0) {
          clearTimeout(timer);
          resolve();
        }
      },
    });
  });
  await consumer.disconnect();
  return counts;
}

export const { logLevel } = kafkajs;
