import type { Admin } from 'kafkajs';
import kafkajs from 'kafkajs';
import { ServiceError } from '../errors.ts';
import { isUnknownTopic, KafkaError, translateKafkaError } from './kafka-errors.ts';
import type { KafkaSession } from './session.ts';

/**
 * Topic and cluster metadata, seen as the session's principal: the broker answers only what
 * that principal may describe. Unknown and undescribable topics look the same (not found), as
 * in Kafka's own metadata, so existence is not leaked.
 */

const { ConfigResourceTypes } = kafkajs;

export interface PartitionInfo {
  readonly partition: number;
  readonly leader: number;
  readonly replicas: ReadonlyArray<{ broker: number; leader: boolean; in_sync: boolean }>;
}

export interface TopicDescription {
  readonly name: string;
  readonly partitions: PartitionInfo[];
}

export interface ConfigEntry {
  readonly name: string;
  readonly value: string | null;
  readonly isDefault: boolean;
  readonly isReadOnly: boolean;
  readonly isSensitive: boolean;
  readonly source: string;
}

function withAdmin<T>(session: KafkaSession, run: (admin: Admin) => Promise<T>): Promise<T> {
  return session.useAdmin(run);
}

function notFoundIfHidden(err: KafkaError, topic: string): ServiceError {
  if (isUnknownTopic(err) || err.code === 'KAFKA_AUTHZ_FAILED') {
    return new ServiceError('TOPIC_NOT_FOUND', `Topic ${topic} not found`, { cause: err });
  }
  return err;
}

export async function listTopics(session: KafkaSession): Promise<string[]> {
  const topics = await withAdmin(session, (admin) => admin.listTopics());
  return topics.sort();
}

/** Partitions of `topic`; TOPIC_NOT_FOUND when unknown or not describable. */
export async function describeTopic(session: KafkaSession, topic: string): Promise<TopicDescription> {
  try {
    const meta = await withAdmin(session, (admin) => admin.fetchTopicMetadata({ topics: [topic] }));
    const found = meta.topics.find((t) => t.name === topic);
    if (!found) throw new ServiceError('TOPIC_NOT_FOUND', `Topic ${topic} not found`);
    const partitions = found.partitions
      .map((p) => {
        const isr = new Set(p.isr);
        return {
          partition: p.partitionId,
          leader: p.leader,
          replicas: p.replicas.map((broker) => ({
            broker,
            leader: broker === p.leader,
            in_sync: isr.has(broker),
          })),
        };
      })
      .sort((a, b) => a.partition - b.partition);
    return { name: topic, partitions };
  } catch (err) {
    if (err instanceof ServiceError && err.code === 'TOPIC_NOT_FOUND') throw err;
    throw notFoundIfHidden(translateKafkaError(err), topic);
  }
}

/** Kafka protocol error code TOPIC_AUTHORIZATION_FAILED. */
const TOPIC_AUTHORIZATION_FAILED = 29;

/**
 * True when `err` (from `topicConfigs`) says only that the principal may not describe the
 * topic's configs, not that the topic is missing or Kafka failed.
 */
export function isDescribeConfigsDenied(err: unknown): boolean {
  if (err instanceof KafkaError) return err.code === 'KAFKA_AUTHZ_FAILED';
  return (
    err instanceof ServiceError &&
    err.code === 'TOPIC_NOT_FOUND' &&
    err.cause instanceof KafkaError &&
    err.cause.code === 'KAFKA_AUTHZ_FAILED'
  );
}

export async function topicConfigs(session: KafkaSession, topic: string): Promise<ConfigEntry[]> {
  try {
    const result = await withAdmin(session, (admin) =>
      admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }],
      }),
    );
    const resource = result.resources[0];
    if (resource?.errorCode !== 0) {
      // The broker answers a missing DESCRIBE_CONFIGS per resource; keep that apart (as the cause)
      // from a topic that is gone, so callers can tell the two.
      const cause =
        resource?.errorCode === TOPIC_AUTHORIZATION_FAILED
          ? new KafkaError(
              'KAFKA_AUTHZ_FAILED',
              'DESCRIBE_CONFIGS refused',
              'TOPIC_AUTHORIZATION_FAILED',
              false,
            )
          : undefined;
      throw new ServiceError('TOPIC_NOT_FOUND', `Topic ${topic} not found`, { cause });
    }
    return resource.configEntries.map((e) => ({
      name: e.configName,
      value: e.configValue,
      isDefault: e.isDefault,
      isReadOnly: e.readOnly,
      isSensitive: e.isSensitive,
      source: String((e as { configSource?: unknown }).configSource ?? ''),
    }));
  } catch (err) {
    if (err instanceof ServiceError && err.code === 'TOPIC_NOT_FOUND') throw err;
    throw notFoundIfHidden(translateKafkaError(err), topic);
  }
}

/** Earliest and latest offsets of one partition (read-uncommitted). */
export async function partitionOffsets(
  session: KafkaSession,
  topic: string,
  partition: number,
): Promise<{ beginning: number; end: number }> {
  const offsets = await withAdmin(session, (admin) => admin.fetchTopicOffsets(topic));
  const entry = offsets.find((o) => o.partition === partition);
  if (!entry)
    throw new ServiceError('PARTITION_NOT_FOUND', `Partition ${partition} of topic ${topic} not found`);
  return { beginning: Number(entry.low), end: Number(entry.high) };
}

export async function brokerIds(session: KafkaSession): Promise<number[]> {
  const cluster = await withAdmin(session, (admin) => admin.describeCluster());
  return cluster.brokers.map((b) => b.nodeId).sort((a, b) => a - b);
}

export async function clusterId(session: KafkaSession): Promise<string> {
  const cluster = await withAdmin(session, (admin) => admin.describeCluster());
  return cluster.clusterId;
}

export interface NewTopic {
  readonly name: string;
  readonly partitions: number;
  readonly replicationFactor: number;
  readonly configs: ReadonlyArray<{ name: string; value: string }>;
}

/** Creates a topic; false when it already existed. */
export async function createTopic(session: KafkaSession, topic: NewTopic): Promise<boolean> {
  return withAdmin(session, (admin) =>
    admin.createTopics({
      waitForLeaders: true,
      topics: [
        {
          topic: topic.name,
          numPartitions: topic.partitions,
          replicationFactor: topic.replicationFactor,
          configEntries: topic.configs.map((c) => ({ name: c.name, value: c.value })),
        },
      ],
    }),
  );
}

export async function deleteTopic(session: KafkaSession, topic: string): Promise<void> {
  try {
    await withAdmin(session, (admin) => admin.deleteTopics({ topics: [topic], timeout: 10000 }));
  } catch (err) {
    throw notFoundIfHidden(translateKafkaError(err), topic);
  }
}

// DescribeConfigs ConfigSource value for a dynamic per-topic setting.
const DYNAMIC_TOPIC_CONFIG = '1';

/**
 * Sets (or, with null, removes) one per-topic setting. kafkajs offers only the non-incremental
 * AlterConfigs, which replaces every dynamic setting of the topic: so read the current dynamic
 * settings and send them back with the one change.
 */
export async function alterTopicConfig(
  session: KafkaSession,
  topic: string,
  name: string,
  value: string | null,
): Promise<void> {
  const current = await topicConfigs(session, topic);
  const dynamic = new Map(
    current
      .filter((e) => e.source === DYNAMIC_TOPIC_CONFIG && e.value !== null)
      .map((e) => [e.name, e.value!]),
  );
  if (value === null) dynamic.delete(name);
  else dynamic.set(name, value);
  await withAdmin(session, (admin) =>
    admin.alterConfigs({
      validateOnly: false,
      resources: [
        {
          type: ConfigResourceTypes.TOPIC,
          name: topic,
          configEntries: [...dynamic].map(([configName, configValue]) => ({
            name: configName,
            value: configValue,
          })),
        },
      ],
    }),
  );
}
