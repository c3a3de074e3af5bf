import { ServiceError } from '../errors.ts';
import {
  partitionKey,
  type TopicPartition,
  type TopicPartitionOffset,
  uniqueTopics,
} from './consumer-types.ts';
import type { KafkaSession } from './session.ts';
import { withDeadline } from './waiting.ts';

/**
 * The topic look-ups of a consumer instance, through its session's admin client (which recovers
 * from deleted topics: KafkaSession.useAdmin). All seen as the caller: topics the caller may not
 * describe count as missing.
 */

export type Subscription =
  | { readonly kind: 'topics'; readonly topics: readonly string[] }
  | { readonly kind: 'pattern'; readonly pattern: RegExp };

/** The topics a subscription resolves to now: those that exist, or those the pattern matches. */
export async function resolveTopics(
  session: KafkaSession,
  subscription: Subscription,
  timeoutMs: number,
): Promise<string[]> {
  const existing = await withDeadline(
    session.useAdmin((admin) => admin.listTopics()),
    timeoutMs,
    'listing topics',
  );
  if (subscription.kind === 'topics') {
    const known = new Set(existing);
    return subscription.topics.filter((t) => known.has(t));
  }
  // Internal topics are not matched, as with Java's exclude.internal.topics.
  return existing.filter((t) => !t.startsWith('__') && subscription.pattern.test(t)).sort();
}

/** Fails with TOPIC_NOT_FOUND or PARTITION_NOT_FOUND for the first partition that does not exist. */
export async function assertPartitionsExist(
  session: KafkaSession,
  partitions: readonly TopicPartition[],
  timeoutMs: number,
): Promise<void> {
  if (partitions.length === 0) return;
  const topics = uniqueTopics(partitions);
  const existing = new Set(
    await withDeadline(
      session.useAdmin((admin) => admin.listTopics()),
      timeoutMs,
      'listing topics',
    ),
  );
  for (const topic of topics) {
    if (!existing.has(topic)) throw new ServiceError('TOPIC_NOT_FOUND', `topic ${topic} not found`);
  }
  const metadata = await withDeadline(
    session.useAdmin((admin) => admin.fetchTopicMetadata({ topics })),
    timeoutMs,
    'describing topics',
  );
  const known = new Set<string>();
  for (const { name, partitions: ps } of metadata.topics) {
    for (const p of ps) known.add(partitionKey(name, p.partitionId));
  }
  for (const { topic, partition } of partitions) {
    if (!known.has(partitionKey(topic, partition))) {
      throw new ServiceError('PARTITION_NOT_FOUND', `partition ${topic}-${partition} not found`);
    }
  }
}

/** The log start (`low`) or end (`high`) offset of each partition. */
export async function logEnds(
  session: KafkaSession,
  partitions: readonly TopicPartition[],
  end: 'low' | 'high',
  timeoutMs: number,
): Promise<TopicPartitionOffset[]> {
  const targets: TopicPartitionOffset[] = [];
  for (const topic of uniqueTopics(partitions)) {
    const offsets = await withDeadline(
      session.useAdmin((admin) => admin.fetchTopicOffsets(topic)),
      timeoutMs,
      'looking up the log ends',
    );
    for (const tp of partitions) {
      if (tp.topic !== topic) continue;
      const entry = offsets.find((o) => o.partition === tp.partition);
      if (!entry)
        throw new ServiceError('PARTITION_NOT_FOUND', `partition ${topic}-${tp.partition} not found`);
      targets.push({ topic, partition: tp.partition, offset: Number(entry[end]) });
    }
  }
  return targets;
}
