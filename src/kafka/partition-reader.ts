import type { ServiceError } from '../errors.ts';
import type { FetchedRecord, TopicPartition, TopicPartitionOffset } from './consumer-types.ts';

/**
 * What a consumer instance reads through, for one subscription or one manual assignment:
 * a GroupReader (group member, kafkajs's consumer) or a ManualReader (no group membership,
 * fetches itself). The instance treats both alike.
 */

export interface ReaderSettings {
  readonly group: string;
  /** The topics read. */
  readonly topics: readonly string[];
  /** The partitions asked for with `assign`; null for a subscription. */
  readonly manual: readonly TopicPartition[] | null;
  readonly fromBeginning: boolean;
  readonly fetchMinBytes: number;
  /** The consumer instance's buffer cap: one fetch response stays well below it. */
  readonly bufferMaxBytes: number;
  readonly operationTimeoutMs: number;
}

export interface ReaderHooks {
  /** A batch of one partition, in offset order; false leaves it unread (fetched again later). */
  onBatch?(reader: PartitionReader, records: FetchedRecord[], nextOffset: number): boolean;
  /** When the reader holds its partitions (after each group join); `reader.assigned` lists them. */
  onJoin?(reader: PartitionReader): void;
  /** Reading failed; without `restart` the reader gave up and `reader.failure` says why. */
  onCrash?(reader: PartitionReader, failure: ServiceError, restart: boolean): void;
  /** The group is about to be rebalanced (group readers only). */
  onRebalancing?(reader: PartitionReader): void;
  /** Asked whether to restart after a retriable failure. */
  mayRestart(): boolean;
  onBackgroundError(what: string, err: unknown): void;
}

export interface PartitionReader {
  readonly settings: ReaderSettings;
  /** The partitions this reader holds now. */
  readonly assigned: readonly TopicPartition[];
  /** True while it holds its partitions (a group reader: between a join and a crash). */
  readonly joined: boolean;
  /** Why it gave up without restarting. */
  readonly failure: ServiceError | null;
  readonly stopping: boolean;
  /** The owner started a replacement after a failure (at most once). */
  restarting: boolean;
  start(): void;
  /** Until the partitions are held, a failure, `stop`, or the operation deadline. */
  awaitJoin(): Promise<void>;
  /** Wakes `awaitJoin` so that its caller can look at its own state again. */
  wake(): void;
  isAssigned(topic: string, partition: number): boolean;
  pause(): void;
  resume(): void;
  /** The next read of the partition starts at `offset`; anything read before it is dropped. */
  seek(topic: string, partition: number, offset: number): void;
  /** Commits to the group's offsets; fails rather than skip silently. */
  commit(entries: readonly TopicPartitionOffset[]): Promise<void>;
  /** Stops reading and releases its connections (a group reader leaves the group). Never rejects. */
  stop(): Promise<void>;
}
