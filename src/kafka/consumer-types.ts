/**
 * The plain data a REST consumer instance deals in: its options, partitions, offsets and the
 * records it hands out. Types only (and two tiny helpers), so the consumer's modules can share
 * them without importing each other.
 */

export type ConsumerFormat = 'binary' | 'json' | 'avro' | 'jsonschema' | 'protobuf';

export interface ConsumerInstanceOptions {
  group: string;
  name: string;
  format: ConsumerFormat;
  autoOffsetReset: 'earliest' | 'latest';
  autoCommit: boolean;
  fetchMinBytes: number;
  /** Default fetch timeout of this instance (`consumer.request.timeout.ms`). */
  requestTimeoutMs: number;
  /** Buffered record bytes at which fetching from Kafka pauses (rest.consumerBufferMaxBytes). */
  bufferMaxBytes: number;
  /** Deadline of each Kafka operation: joining, committing, offset look-ups, leaving. Default 15 s. */
  operationTimeoutMs?: number;
  /** How often auto-commit commits positions that moved. Default 5 s. */
  autoCommitIntervalMs?: number;
  /** How often a pattern, or a topic list naming missing topics, is matched again. Default 30 s. */
  topicRefreshIntervalMs?: number;
  /**
   * How long a poll that already has records keeps gathering when a follow-up read brings
   * nothing new (see ConsumerInstance.fetch). Default 100 ms.
   */
  pollSettleMs?: number;
}

export interface TopicPartition {
  topic: string;
  partition: number;
}

export interface TopicPartitionOffset extends TopicPartition {
  offset: number;
}

export interface FetchedRecord {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number | null;
  key: Buffer | null;
  value: Buffer | null;
  headers: Array<{ key: string; value: Buffer | null }>;
}

export const partitionKey = (topic: string, partition: number) => `${partition}\u0000${topic}`;

export function uniqueTopics(partitions: readonly TopicPartition[]): string[] {
  return [...new Set(partitions.map((p) => p.topic))];
}
