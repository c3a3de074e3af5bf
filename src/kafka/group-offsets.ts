import type { Cluster, PartitionAssigner } from 'kafkajs';
import type { ServiceError } from '../errors.ts';
import type { TopicPartition, TopicPartitionOffset } from './consumer-types.ts';
import { uniqueTopics } from './consumer-types.ts';
import type { KafkaClient } from './kafka-client.ts';
import { KafkaError } from './kafka-errors.ts';
import type { KafkaSession } from './session.ts';
import { withDeadline } from './waiting.ts';

/**
 * Kafka's group-less consumer API, the way Java's KafkaConsumer#assign uses it: a consumer that
 * is not a group member fetches partitions itself and commits to its group's offsets with
 * generation -1 and no member id (the coordinator accepts that while the group has no active
 * members, as it does for Java's standalone consumers).
 *
 * kafkajs has no such consumer, but its lower layer does: `Cluster` (metadata, leaders, group
 * coordinator, ListOffsets) and `Broker` (Fetch, OffsetCommit, OffsetFetch), both in its public
 * typings. The one way to get a Cluster is the `{ cluster }` kafkajs hands each partition
 * assigner factory when a consumer is built; that consumer is never connected or run, so it
 * never joins its group. This is the only code that builds one.
 */

/** A kafkajs Cluster of its own (own connections), authenticating as the session does. */
export function createCluster(kafka: KafkaClient, groupId: string): Cluster {
  let captured: Cluster | null = null;
  const capture: PartitionAssigner = ({ cluster }) => {
    captured = cluster;
    return {
      name: 'TollgateClusterHandle',
      version: 1,
      protocol: () => ({ name: 'TollgateClusterHandle', metadata: Buffer.alloc(0) }),
      assign: async () => [],
    };
  };
  kafka.consumer({ groupId, partitionAssigners: [capture], allowAutoTopicCreation: false });
  if (!captured) throw new Error('kafkajs did not hand a cluster to the partition assigner');
  return captured;
}

/** Commits `entries` (next offsets to read) without group membership. */
export async function commitWithoutMembership(
  cluster: Cluster,
  groupId: string,
  entries: readonly TopicPartitionOffset[],
  timeoutMs: number,
): Promise<void> {
  const topics = uniqueTopics(entries).map((topic) => ({
    topic,
    partitions: entries
      .filter((e) => e.topic === topic)
      .map(({ partition, offset }) => ({ partition, offset: String(offset) })),
  }));
  await withDeadline(
    (async () => {
      const coordinator = await cluster.findGroupCoordinator({ groupId });
      await coordinator.offsetCommit({ groupId, groupGenerationId: -1, memberId: '', topics });
    })(),
    timeoutMs,
    'committing offsets',
  );
}

/** The group's committed offsets (next offsets to read); absent where none is committed. */
export async function committedOffsets(
  cluster: Cluster,
  groupId: string,
  partitions: readonly TopicPartition[],
  timeoutMs: number,
): Promise<Map<string, number>> {
  const topics = uniqueTopics(partitions).map((topic) => ({
    topic,
    partitions: partitions.filter((p) => p.topic === topic).map(({ partition }) => ({ partition })),
  }));
  const response = await withDeadline(
    (async () => {
      const coordinator = await cluster.findGroupCoordinator({ groupId });
      return coordinator.offsetFetch({ groupId, topics: topics as never });
    })(),
    timeoutMs,
    'reading committed offsets',
  );
  const out = new Map<string, number>();
  for (const { topic, partitions: entries } of response.responses) {
    for (const { partition, offset } of entries as Array<{ partition: number; offset: string }>) {
      const n = Number(offset);
      if (n >= 0) out.set(`${partition}\u0000${topic}`, n);
    }
  }
  return out;
}

/** True when `err` or one of the errors it wraps is named `name`. */
function causedBy(err: unknown, name: string): boolean {
  let current = err as { name?: string; cause?: unknown; originalError?: unknown } | undefined;
  for (let depth = 0; depth < 8 && current && typeof current === 'object'; depth++) {
    if (current.name === name) return true;
    current = (current.cause ?? current.originalError) as typeof current;
  }
  return false;
}

/**
 * kafkajs hides why FindCoordinator failed: it swallows the broker's answer and throws a bare
 * KafkaJSGroupCoordinatorNotFound. For a group id that is not empty, a broker that answers other
 * requests refuses that one for the caller's missing group ACL (GROUP_AUTHORIZATION_FAILED; a
 * coordinator that is merely unavailable is retried first). A probe tells the two apart from
 * an unreachable broker: KAFKA_AUTHZ_FAILED then, else `err` unchanged.
 */
export async function diagnoseGroupFailure(
  session: KafkaSession,
  group: string,
  err: ServiceError,
  timeoutMs: number,
): Promise<ServiceError> {
  if (!causedBy(err, 'KafkaJSGroupCoordinatorNotFound')) return err;
  try {
    await withDeadline(
      session.useAdmin((admin) => admin.describeCluster()),
      timeoutMs,
      'describing the cluster',
    );
  } catch {
    return err;
  }
  return new KafkaError(
    'KAFKA_AUTHZ_FAILED',
    `not authorized to use consumer group ${group}`,
    'GROUP_AUTHORIZATION_FAILED',
    false,
    err,
  );
}
