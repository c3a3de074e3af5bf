import { type ErrorCode, ServiceError } from '../errors.ts';
import { isUnknownTopic, translateKafkaError } from './kafka-errors.ts';
import { ProduceBatcher } from './produce-batcher.ts';
import type { KafkaSession } from './session.ts';
import { describeTopic } from './topics.ts';

/**
 * Produce with a result per record, in request order. We choose each record's partition
 * ourselves (explicit, else murmur2 of the key as Kafka's Java client does, else round robin),
 * so that the broker's base offset per partition gives every record its offset: the base plus
 * its position among that partition's records.
 * A record is reported written only when the broker acknowledged it (acks=all, idempotent).
 */

export interface OutgoingRecord {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  /** Explicit partition, or null to let the key (or round robin) decide. */
  readonly partition: number | null;
  readonly headers?: Record<string, Buffer | null>;
}

export type RecordResult =
  | { readonly ok: true; readonly partition: number; readonly offset: number }
  | {
      readonly ok: false;
      readonly code: ErrorCode;
      /** Whether sending again may succeed (a broker away, a leader moving). */
      readonly retriable: boolean;
      readonly error: string;
    };

interface PartitionCount {
  readonly count: number;
  readonly fetchedAtMs: number;
}

const partitionCounts = new WeakMap<KafkaSession, Map<string, PartitionCount>>();
const roundRobin = new WeakMap<KafkaSession, { next: number }>();

/** Kafka's murmur2 (org.apache.kafka.common.utils.Utils.murmur2), seed 0x9747b28c. */
export function murmur2(data: Buffer): number {
  const m = 0x5bd1e995;
  const length = data.length;
  let h = (0x9747b28c ^ length) | 0;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  const rest = length & 3;
  if (rest === 3) h ^= data[whole + 2]! << 16;
  if (rest >= 2) h ^= data[whole + 1]! << 8;
  if (rest >= 1) {
    h ^= data[whole]!;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/** The partition Kafka's default partitioner picks for a key: toPositive(murmur2) % count. */
export function partitionForKey(key: Buffer, count: number): number {
  return (murmur2(key) & 0x7fffffff) % count;
}

/** Partition count of `topic` as the session's principal sees it (cached for `maxAgeMs`). */
export async function partitionCount(session: KafkaSession, topic: string, maxAgeMs: number, nowMs: number) {
  let counts = partitionCounts.get(session);
  if (!counts) {
    counts = new Map();
    partitionCounts.set(session, counts);
  }
  const cached = counts.get(topic);
  if (cached && nowMs - cached.fetchedAtMs <= maxAgeMs) return cached.count;
  const description = await describeTopic(session, topic);
  counts.set(topic, { count: description.partitions.length, fetchedAtMs: nowMs });
  return description.partitions.length;
}

/** Sends `records` to `topic`; resolves with one result per record (never rejects for a broker error). */
export async function produceRecords(
  session: KafkaSession,
  topic: string,
  records: readonly OutgoingRecord[],
  count: number,
  timeoutMs: number,
): Promise<RecordResult[]> {
  const results: RecordResult[] = new Array(records.length);
  const byPartition = new Map<number, number[]>();
  let rr = roundRobin.get(session);
  if (!rr) {
    rr = { next: Math.floor(Math.random() * 1000) };
    roundRobin.set(session, rr);
  }
  for (let i = 0; i < records.length; i++) {
    const record = records[i]!;
    let partition: number;
    if (record.partition !== null) {
      partition = record.partition;
      if (partition < 0 || partition >= count) {
        results[i] = {
          ok: false,
          code: 'PARTITION_NOT_FOUND',
          retriable: false,
          error: `Unknown partition ${partition} of topic ${topic}`,
        };
        continue;
      }
    } else if (record.key !== null) {
      partition = partitionForKey(record.key, count);
    } else {
      partition = rr.next++ % count;
    }
    let list = byPartition.get(partition);
    if (!list) {
      list = [];
      byPartition.set(partition, list);
    }
    list.push(i);
  }
  if (byPartition.size === 0) return results;

  // One send for the whole request: kafkajs puts every partition led by the same broker into one
  // produce request, and the session's batcher merges it with requests of other callers that
  // arrive while one is in flight. The price: when the broker fails a partition, kafkajs fails
  // the whole send, so every record of it is reported failed even if another partition's share
  // was written: a client may resend records that were written, never lose one it was told was
  // written.
  const messages = [];
  for (const [partition, indexes] of byPartition) {
    for (const i of indexes) {
      const r = records[i]!;
      messages.push({
        key: r.key,
        value: r.value,
        partition,
        headers: r.headers as Record<string, Buffer> | undefined,
      });
    }
  }
  try {
    const bases = await batcherOf(session, timeoutMs).send({ topic, messages });
    for (const [partition, indexes] of byPartition) {
      const base = bases.get(partition);
      indexes.forEach((i, position) => {
        // Fail closed: a record the broker did not acknowledge is never reported written.
        results[i] =
          base === undefined || Number.isNaN(base)
            ? {
                ok: false,
                code: 'KAFKA_UNAVAILABLE',
                retriable: true,
                error: 'Kafka did not acknowledge the record; it may not be written',
              }
            : { ok: true, partition, offset: base + position };
      });
    }
  } catch (err) {
    const failure = translateKafkaError(err);
    if (
      failure.code === 'KAFKA_AUTHZ_FAILED' ||
      failure.code === 'KAFKA_AUTH_FAILED' ||
      failure.code === 'KAFKA_TOKEN_REJECTED'
    )
      throw failure;
    const retriable = failure.retriable || failure.code === 'KAFKA_UNAVAILABLE';
    for (const indexes of byPartition.values()) {
      for (const i of indexes)
        results[i] = { ok: false, code: failure.code, retriable, error: failure.message };
    }
  }
  return results;
}

const batchers = new WeakMap<KafkaSession, ProduceBatcher>();

/**
 * The session's batcher. When kafkajs reports an unknown topic for a topic the admin client just
 * described, the producer's own metadata is stale (a topic it used was deleted: see
 * KafkaSession.resetClient), so the batch is retried once on a fresh producer.
 */
function batcherOf(session: KafkaSession, timeoutMs: number): ProduceBatcher {
  let batcher = batchers.get(session);
  if (!batcher) {
    batcher = new ProduceBatcher(async ({ topicMessages }) => {
      const request = { acks: -1, timeout: timeoutMs, topicMessages };
      try {
        return await (await session.getProducer()).sendBatch(request);
      } catch (err) {
        if (!isUnknownTopic(translateKafkaError(err))) {
          // A failed send leaves the idempotent producer's sequence numbers untrustworthy:
          // kafkajs 2.2.4 rolls them back on any error, also when the broker did write the
          // batch before the connection broke. The next batch would then reuse those numbers,
          // and the broker would take it for a retry of the written one: answered as written,
          // silently dropped (seen after a broker SIGKILL, issue 13). A new producer id starts
          // clean.
          session.resetClient('producer');
          throw err;
        }
        session.resetClient('producer');
        return (await session.getProducer()).sendBatch(request);
      }
    });
    batchers.set(session, batcher);
  }
  return batcher;
}

export function assertPartitionExists(topic: string, partition: number, count: number): void {
  if (partition < 0 || partition >= count) {
    throw new ServiceError('PARTITION_NOT_FOUND', `Partition ${partition} of topic ${topic} not found`);
  }
}
