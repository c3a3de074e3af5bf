import type { Consumer, EachBatchPayload } from 'kafkajs';
import kafkajs from 'kafkajs';
import type { ServiceError } from '../errors.ts';
import { partitionKey, type TopicPartition, type TopicPartitionOffset } from './consumer-types.ts';
import { toFetchedRecord } from './fetched-record.ts';
import type { KafkaClient } from './kafka-client.ts';
import { KafkaError, toServiceError } from './kafka-errors.ts';
import { createTollgateAssigner } from './partition-assigner.ts';
import type { PartitionReader, ReaderHooks, ReaderSettings } from './partition-reader.ts';
import { Signal, withDeadline } from './waiting.ts';

/**
 * One kafkajs consumer in a consumer group, for one subscription or manual assignment, from
 * start to leaving the group. kafkajs cannot change a subscription while running, so a consumer
 * instance starts a new reader for each change.
 *
 * kafkajs runs with autoCommit off: the reader only commits what it is told to. It hands each
 * batch to `onBatch` as plain records and resolves the batch (so kafkajs fetches past it) only
 * when `onBatch` took it. This is the only code that sees kafkajs consumer types.
 */

const { PartitionAssigners } = kafkajs;

/** The broker's long-poll wait per fetch: also how long leaving the group may wait for one. */
const FETCH_MAX_WAIT_MS = 500;
/** Members notice a rebalance at their next heartbeat, and a join waits for all of them. */
const HEARTBEAT_INTERVAL_MS = 1000;
const MIN_FETCH_BYTES = 16 * 1024;
const MAX_FETCH_BYTES = 10 * 1024 * 1024;
const MAX_FETCH_BYTES_PER_PARTITION = 1024 * 1024;
/** A few quick retries inside kafkajs; the operation deadline bounds the total. */
const CONSUMER_RETRY = { retries: 5, initialRetryTime: 300, maxRetryTime: 3000 };

export class GroupReader implements PartitionReader {
  readonly settings: ReaderSettings;
  /** The partitions the group gave this member at its latest join. */
  assigned: TopicPartition[] = [];
  /** Between a group join and a crash. */
  joined = false;
  /** Why kafkajs gave up without restarting. */
  failure: ServiceError | null = null;
  stopping = false;
  /** The owner started a replacement after a failure (at most once). */
  restarting = false;

  private readonly consumer: Consumer;
  private readonly hooks: ReaderHooks;
  private readonly changed = new Signal();
  private assignedKeys = new Set<string>();
  /** consumer.run() returned: its first start finished, joined or crashed. */
  private started = false;

  constructor(kafka: KafkaClient, settings: ReaderSettings, hooks: ReaderHooks) {
    this.settings = settings;
    this.hooks = hooks;
    const assigner = createTollgateAssigner(() => settings.manual);
    const fetchMaxBytes = Math.min(
      MAX_FETCH_BYTES,
      Math.max(MIN_FETCH_BYTES, Math.floor(settings.bufferMaxBytes / 2)),
    );
    this.consumer = kafka.consumer({
      groupId: settings.group,
      // Manual members speak only our assigner; subscribers fall back to round robin so that
      // plain kafkajs members can share the group (see partition-assigner.ts).
      partitionAssigners: settings.manual ? [assigner] : [assigner, PartitionAssigners.roundRobin],
      allowAutoTopicCreation: false,
      minBytes: Math.max(1, settings.fetchMinBytes),
      maxBytes: fetchMaxBytes,
      maxBytesPerPartition: Math.min(MAX_FETCH_BYTES_PER_PARTITION, fetchMaxBytes),
      maxWaitTimeInMs: FETCH_MAX_WAIT_MS,
      heartbeatInterval: HEARTBEAT_INTERVAL_MS,
      retry: { ...CONSUMER_RETRY, restartOnFailure: async () => !this.stopping && hooks.mayRestart() },
    });
    const { events } = this.consumer;
    this.consumer.on(events.GROUP_JOIN, ({ payload }) => this.joinedWith(payload.memberAssignment));
    this.consumer.on(events.CRASH, ({ payload }) => this.crashed(payload.error, payload.restart));
    this.consumer.on(events.REBALANCING, () => this.hooks.onRebalancing?.(this));
  }

  /** Connects, subscribes and runs in the background; `awaitJoin` tells how it went. */
  start(): void {
    void this.launch();
  }

  /**
   * Until the first join, a failure, `stop`, or the deadline. Joining may take longer (other
   * members must rejoin too) and then carries on in the background.
   */
  async awaitJoin(): Promise<void> {
    const deadline = Date.now() + this.settings.operationTimeoutMs;
    while (!this.failure && !(this.started && this.joined) && !this.stopping) {
      const left = deadline - Date.now();
      if (left <= 0) return;
      await this.changed.wait(left);
    }
  }

  /** Wakes `awaitJoin` so that its caller can look at the owner's state again. */
  wake(): void {
    this.changed.fire();
  }

  isAssigned(topic: string, partition: number): boolean {
    return this.joined && this.assignedKeys.has(partitionKey(topic, partition));
  }

  /** Stops fetching every topic of the reader; also for partitions assigned later in this run. */
  pause(): void {
    try {
      this.consumer.pause(this.settings.topics.map((topic) => ({ topic })));
    } catch {
      // Not running: the owner pauses again at the next join.
    }
  }

  resume(): void {
    try {
      this.consumer.resume(this.settings.topics.map((topic) => ({ topic })));
    } catch {
      // Not running: a new run starts unpaused.
    }
  }

  /**
   * The next fetch of the partition starts at `offset`; batches fetched before it are dropped
   * (kafkajs marks them stale). With autoCommit off, kafkajs seeks without committing.
   */
  seek(topic: string, partition: number, offset: number): void {
    try {
      this.consumer.seek({ topic, partition, offset: String(offset) });
    } catch (err) {
      throw toServiceError(err);
    }
  }

  /** Commits within this member's generation; fails rather than skip silently. */
  async commit(entries: readonly TopicPartitionOffset[]): Promise<void> {
    const { consumer } = this;
    let committed = false;
    const stopListening = consumer.on(consumer.events.COMMIT_OFFSETS, () => {
      committed = true;
    });
    try {
      await withDeadline(
        consumer.commitOffsets(
          entries.map(({ topic, partition, offset }) => ({ topic, partition, offset: String(offset) })),
        ),
        this.settings.operationTimeoutMs,
        'committing offsets',
      );
    } finally {
      stopListening();
    }
    // kafkajs returns without committing while its runner is between a crash and a restart.
    if (!committed) {
      throw new KafkaError(
        'KAFKA_UNAVAILABLE',
        'the consumer is rejoining its group; commit again',
        null,
        true,
      );
    }
  }

  /** Stops fetching, leaves the group (so it rebalances now, not after the session timeout) and disconnects. Never rejects. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.joined = false;
    this.changed.fire();
    try {
      await withDeadline(
        this.consumer.disconnect(),
        this.settings.operationTimeoutMs,
        'leaving the consumer group',
      );
    } catch (err) {
      this.hooks.onBackgroundError('leaving the consumer group', err);
    }
  }

  private async launch(): Promise<void> {
    const { consumer } = this;
    try {
      await consumer.connect();
      await consumer.subscribe({
        topics: [...this.settings.topics],
        fromBeginning: this.settings.fromBeginning,
      });
    } catch (err) {
      this.failure = toServiceError(err);
      this.hooks.onCrash?.(this, this.failure, false);
      this.changed.fire();
      return;
    }
    if (this.stopping) return;
    consumer
      .run({
        autoCommit: false,
        // A batch is resolved only when the owner took it.
        eachBatchAutoResolve: false,
        eachBatch: (payload) => this.deliver(payload),
      })
      .then(
        () => {
          this.started = true;
          this.changed.fire();
        },
        (err) => {
          this.failure ??= toServiceError(err);
          this.changed.fire();
        },
      );
  }

  private async deliver({ batch, resolveOffset, isStale }: EachBatchPayload): Promise<void> {
    // A pending seek makes the batch stale: it was fetched from the old position.
    if (this.stopping || isStale() || !this.assignedKeys.has(partitionKey(batch.topic, batch.partition)))
      return;
    if (!this.hooks.onBatch) return;
    const records = batch.messages.map((m) => toFetchedRecord(batch.topic, batch.partition, m));
    const last = batch.lastOffset();
    if (this.hooks.onBatch(this, records, Number(last) + 1)) resolveOffset(last);
  }

  private joinedWith(memberAssignment: Record<string, number[]>): void {
    const assigned: TopicPartition[] = [];
    for (const [topic, partitions] of Object.entries(memberAssignment)) {
      for (const partition of partitions) assigned.push({ topic, partition });
    }
    this.assigned = assigned;
    this.assignedKeys = new Set(assigned.map((tp) => partitionKey(tp.topic, tp.partition)));
    this.joined = true;
    this.failure = null;
    this.hooks.onJoin?.(this);
    this.changed.fire();
  }

  private crashed(error: Error, restart: boolean): void {
    this.joined = false;
    const failure = toServiceError(error);
    if (!this.stopping) {
      if (!restart) this.failure = failure;
      this.hooks.onCrash?.(this, failure, restart);
    }
    this.changed.fire();
  }
}
