import { createRequire } from 'node:module';
import type { Cluster, KafkaMessage } from 'kafkajs';
import { ServiceError } from '../errors.ts';
import {
  partitionKey,
  type TopicPartition,
  type TopicPartitionOffset,
  uniqueTopics,
} from './consumer-types.ts';
import { toFetchedRecord } from './fetched-record.ts';
import { committedOffsets, commitWithoutMembership, createCluster } from './group-offsets.ts';
import type { KafkaClient } from './kafka-client.ts';
import { KafkaError, toServiceError } from './kafka-errors.ts';
import type { PartitionReader, ReaderHooks, ReaderSettings } from './partition-reader.ts';
import { Signal, withDeadline } from './waiting.ts';

/**
 * A manually assigned consumer instance's reader: it fetches its partitions itself, as Java's
 * KafkaConsumer#assign does, and never joins the consumer group, so assigning disturbs no other
 * member and reading starts as soon as the start positions are known. Commits go to the group's
 * offsets without membership (group-offsets.ts). Start positions: the group's committed offset,
 * else `auto.offset.reset`; an offset out of range is reset the same way.
 *
 * Fetch responses are cut into per-partition batches by kafkajs's own Batch (the class its
 * consumer uses): records before the fetch offset (compressed batches), control records and
 * aborted transactions are dropped the same way as for a group reader.
 */

interface KafkaBatch {
  readonly messages: KafkaMessage[];
  isEmptyIncludingFiltered(): boolean;
  isEmptyDueToLogCompactedMessages(): boolean;
  lastOffset(): string;
}
type BatchClass = new (topic: string, fetchedOffset: string, partitionData: unknown) => KafkaBatch;
const Batch = createRequire(import.meta.url)('kafkajs/src/consumer/batch.js') as BatchClass;

/** kafkajs's consumer default, so both readers see the same records (read_committed). */
const READ_COMMITTED = 1;
const FETCH_MAX_WAIT_MS = 500;
const MIN_FETCH_BYTES = 16 * 1024;
const MAX_FETCH_BYTES = 10 * 1024 * 1024;
const MAX_FETCH_BYTES_PER_PARTITION = 1024 * 1024;
const RETRY_DELAY_MS = 300;
/** Consecutive retriable failures after which the reader gives up (the owner may restart it). */
const MAX_RETRIES = 8;

interface FetchResponse {
  responses: Array<{ topicName: string; partitions: Array<{ partition: number } & Record<string, unknown>> }>;
}

export class ManualReader implements PartitionReader {
  readonly settings: ReaderSettings;
  readonly assigned: readonly TopicPartition[];
  joined = false;
  failure: ServiceError | null = null;
  stopping = false;
  restarting = false;

  private readonly cluster: Cluster;
  private readonly hooks: ReaderHooks;
  private readonly keys: ReadonlySet<string>;
  /** Next offset to fetch per partition. */
  private readonly offsets = new Map<string, number>();
  /** Bumped by every seek: a fetch in flight across a seek is dropped for that partition. */
  private readonly seeks = new Map<string, number>();
  private readonly changed = new Signal();
  private readonly wakeLoop = new Signal();
  private readonly fetchMaxBytes: number;
  private paused = false;
  private loop: Promise<void> = Promise.resolve();

  constructor(kafka: KafkaClient, settings: ReaderSettings, hooks: ReaderHooks) {
    if (!settings.manual) throw new Error('ManualReader needs a manual assignment');
    this.settings = settings;
    this.hooks = hooks;
    this.assigned = settings.manual.map(({ topic, partition }) => ({ topic, partition }));
    this.keys = new Set(this.assigned.map((tp) => partitionKey(tp.topic, tp.partition)));
    this.cluster = createCluster(kafka, settings.group);
    this.fetchMaxBytes = Math.min(
      MAX_FETCH_BYTES,
      Math.max(MIN_FETCH_BYTES, Math.floor(settings.bufferMaxBytes / 2)),
    );
  }

  start(): void {
    this.loop = this.run();
  }

  async awaitJoin(): Promise<void> {
    const deadline = Date.now() + this.settings.operationTimeoutMs;
    while (!this.failure && !this.joined && !this.stopping) {
      const left = deadline - Date.now();
      if (left <= 0) return;
      await this.changed.wait(left);
    }
  }

  wake(): void {
    this.changed.fire();
  }

  isAssigned(topic: string, partition: number): boolean {
    return this.joined && this.keys.has(partitionKey(topic, partition));
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.wakeLoop.fire();
  }

  seek(topic: string, partition: number, offset: number): void {
    const key = partitionKey(topic, partition);
    if (!this.keys.has(key)) {
      throw new ServiceError('CONSUMER_STATE_INVALID', `partition ${topic}-${partition} is not assigned`);
    }
    this.offsets.set(key, offset);
    this.seeks.set(key, (this.seeks.get(key) ?? 0) + 1);
  }

  async commit(entries: readonly TopicPartitionOffset[]): Promise<void> {
    try {
      await commitWithoutMembership(
        this.cluster,
        this.settings.group,
        entries,
        this.settings.operationTimeoutMs,
      );
    } catch (err) {
      throw toServiceError(err);
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.joined = false;
    this.changed.fire();
    this.wakeLoop.fire();
    try {
      await withDeadline(this.loop, this.settings.operationTimeoutMs, 'stopping the reader');
    } catch (err) {
      this.hooks.onBackgroundError('stopping the reader', err);
    }
    await this.cluster.disconnect().catch((err) => this.hooks.onBackgroundError('disconnecting', err));
  }

  private async run(): Promise<void> {
    try {
      await withDeadline(this.prepare(), this.settings.operationTimeoutMs, 'looking up start offsets');
    } catch (err) {
      this.giveUp(err);
      return;
    }
    if (this.stopping) return;
    this.joined = true;
    this.hooks.onJoin?.(this);
    this.changed.fire();
    let failures = 0;
    while (!this.stopping) {
      if (this.paused) {
        await this.wakeLoop.wait(FETCH_MAX_WAIT_MS);
        continue;
      }
      try {
        await this.fetchOnce();
        failures = 0;
      } catch (err) {
        if (this.stopping) return;
        if ((err as { name?: string }).name === 'KafkaJSOffsetOutOfRange') {
          const { topic, partition } = err as unknown as TopicPartition;
          await this.reset([{ topic, partition }]).catch((e) =>
            this.hooks.onBackgroundError('resetting an offset', e),
          );
          continue;
        }
        const failure = toServiceError(err);
        const retriable =
          failure instanceof KafkaError && failure.retriable && failure.code !== 'KAFKA_AUTHZ_FAILED';
        if (!retriable || ++failures > MAX_RETRIES || !this.hooks.mayRestart()) {
          this.giveUp(failure);
          return;
        }
        this.hooks.onCrash?.(this, failure, true);
        await this.wakeLoop.wait(RETRY_DELAY_MS * failures);
        await this.cluster.refreshMetadata().catch(() => {});
      }
    }
  }

  /** Connects, learns the leaders, and sets every partition's start offset. */
  private async prepare(): Promise<void> {
    await this.cluster.connect();
    await this.cluster.addMultipleTargetTopics(uniqueTopics(this.assigned));
    const committed = await committedOffsets(
      this.cluster,
      this.settings.group,
      this.assigned,
      this.settings.operationTimeoutMs,
    );
    const missing: TopicPartition[] = [];
    for (const tp of this.assigned) {
      const key = partitionKey(tp.topic, tp.partition);
      const offset = committed.get(key);
      if (offset === undefined) missing.push(tp);
      else this.offsets.set(key, offset);
    }
    await this.reset(missing);
  }

  /** Sets the partitions to the log start or end, per `auto.offset.reset`. */
  private async reset(partitions: readonly TopicPartition[]): Promise<void> {
    if (partitions.length === 0) return;
    const result = await this.cluster.fetchTopicsOffset(
      uniqueTopics(partitions).map((topic) => ({
        topic,
        partitions: partitions.filter((p) => p.topic === topic).map(({ partition }) => ({ partition })),
        fromBeginning: this.settings.fromBeginning,
      })),
    );
    for (const { topic, partitions: entries } of result) {
      for (const { partition, offset } of entries) {
        const key = partitionKey(topic, partition);
        this.offsets.set(key, Number(offset));
        this.seeks.set(key, (this.seeks.get(key) ?? 0) + 1);
      }
    }
  }

  /** One fetch round: every leader in parallel, each waiting at most FETCH_MAX_WAIT_MS. */
  private async fetchOnce(): Promise<void> {
    const byLeader = new Map<string, Map<string, number[]>>();
    for (const topic of uniqueTopics(this.assigned)) {
      const partitions = this.assigned.filter((tp) => tp.topic === topic).map((tp) => tp.partition);
      const leaders = this.cluster.findLeaderForPartitions(topic, partitions);
      for (const [leader, ps] of Object.entries(leaders)) {
        const topics = byLeader.get(leader) ?? new Map<string, number[]>();
        topics.set(topic, ps);
        byLeader.set(leader, topics);
      }
    }
    if (byLeader.size === 0) {
      // No leader known (yet): look again after a while.
      await this.cluster.refreshMetadata();
      await this.wakeLoop.wait(RETRY_DELAY_MS);
      return;
    }
    await Promise.all([...byLeader].map(([leader, topics]) => this.fetchFrom(leader, topics)));
  }

  private async fetchFrom(nodeId: string, topics: Map<string, number[]>): Promise<void> {
    const requested = new Map<string, { offset: number; seek: number }>();
    const request = [...topics].map(([topic, partitions]) => ({
      topic,
      partitions: partitions.map((partition) => {
        const key = partitionKey(topic, partition);
        const offset = this.offsets.get(key)!;
        requested.set(key, { offset, seek: this.seeks.get(key) ?? 0 });
        return {
          partition,
          fetchOffset: String(offset),
          maxBytes: Math.min(MAX_FETCH_BYTES_PER_PARTITION, this.fetchMaxBytes),
        };
      }),
    }));
    const broker = await this.cluster.findBroker({ nodeId });
    const response = (await broker.fetch({
      replicaId: -1,
      isolationLevel: READ_COMMITTED,
      maxWaitTime: FETCH_MAX_WAIT_MS,
      minBytes: Math.max(1, this.settings.fetchMinBytes),
      maxBytes: this.fetchMaxBytes,
      topics: request,
    })) as FetchResponse;
    for (const { topicName, partitions } of response.responses) {
      for (const data of partitions) {
        const key = partitionKey(topicName, data.partition);
        const asked = requested.get(key);
        // Seeked (or stopped) while the fetch was in flight: these records are from the old position.
        if (!asked || this.stopping || (this.seeks.get(key) ?? 0) !== asked.seek) continue;
        const batch = new Batch(topicName, String(asked.offset), data);
        if (batch.isEmptyIncludingFiltered() && !batch.isEmptyDueToLogCompactedMessages()) continue;
        const next = Number(batch.lastOffset()) + 1;
        const records = batch.messages.map((m) => toFetchedRecord(topicName, data.partition, m));
        const taken = records.length === 0 || (this.hooks.onBatch?.(this, records, next) ?? false);
        if (taken) this.offsets.set(key, next);
      }
    }
  }

  private giveUp(err: unknown): void {
    if (this.stopping) return;
    this.joined = false;
    this.failure = toServiceError(err);
    this.hooks.onCrash?.(this, this.failure, false);
    this.changed.fire();
  }
}
