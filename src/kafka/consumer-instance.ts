import type { Cluster } from 'kafkajs';
import type { Logger } from 'pino';
import { ServiceError } from '../errors.ts';
import type { Metrics, SessionCloseReason } from '../metrics/metrics.ts';
import { assertPartitionsExist, logEnds, resolveTopics, type Subscription } from './consumer-topics.ts';
import {
  type ConsumerInstanceOptions,
  type FetchedRecord,
  partitionKey,
  type TopicPartition,
  type TopicPartitionOffset,
  uniqueTopics,
} from './consumer-types.ts';
import {
  committedOffsets,
  commitWithoutMembership,
  createCluster,
  diagnoseGroupFailure,
} from './group-offsets.ts';
import { GroupReader } from './group-reader.ts';
import { KafkaError, toServiceError } from './kafka-errors.ts';
import { ManualReader } from './manual-reader.ts';
import type { PartitionReader, ReaderHooks } from './partition-reader.ts';
import { RecordBuffer, recordBytes } from './record-buffer.ts';
import type { KafkaSession, SessionResource } from './session.ts';
import { Signal } from './waiting.ts';

/**
 * A REST consumer instance (reference 7.6) over kafkajs.
 *
 * kafkajs pushes batches; REST clients poll. A bounded RecordBuffer sits between them: the
 * reader fills it, polls drain it, and fetching pauses while it is full. kafkajs never decides
 * what is committed. We track each partition's position (the next offset to hand out) and commit
 * positions ourselves: on request, and with auto-commit every few seconds, before leaving the
 * group, and on close.
 *
 * Each subscription or assignment gets its own reader (partition-reader.ts): stop the old one,
 * start a new one. A subscription reads through a GroupReader (a kafkajs consumer in the group);
 * a manual assignment through a ManualReader, which fetches its partitions itself and never
 * joins the group, as Java's assign() does. Partitions the new reader keeps keep their buffered
 * records and positions: when it starts we seek it to where the buffer ends, so nothing is
 * fetched twice.
 *
 * Every Kafka call has a deadline (`operationTimeoutMs`); `fetch` waits at most its timeout.
 */

export type {
  ConsumerFormat,
  ConsumerInstanceOptions,
  FetchedRecord,
  TopicPartition,
  TopicPartitionOffset,
} from './consumer-types.ts';

const DEFAULT_OPERATION_TIMEOUT_MS = 15_000;
const DEFAULT_AUTO_COMMIT_INTERVAL_MS = 5_000;
const DEFAULT_TOPIC_REFRESH_INTERVAL_MS = 30_000;
const DEFAULT_POLL_SETTLE_MS = 100;

type Mode =
  | { readonly kind: 'none' }
  | { readonly kind: 'topics'; readonly topics: readonly string[] }
  | { readonly kind: 'pattern'; readonly pattern: RegExp }
  | { readonly kind: 'assigned'; readonly partitions: readonly TopicPartition[] };

const NO_MODE: Mode = { kind: 'none' };

export class ConsumerInstance implements SessionResource {
  readonly options: ConsumerInstanceOptions;
  lastUsedMs: number;

  private readonly session: KafkaSession;
  private readonly logger: Logger;
  private readonly metrics: Metrics | null;
  private readonly buffer: RecordBuffer;
  /** Fired when records arrive, the reader joins or fails, or the instance closes. */
  private readonly signal = new Signal();
  private readonly operationTimeoutMs: number;
  private readonly pollSettleMs: number;
  private readonly autoCommitTimer: NodeJS.Timeout | null;
  private readonly refreshTimer: NodeJS.Timeout;
  private mode: Mode = NO_MODE;
  /** Topics the current subscription resolved to (existing topics, or pattern matches). */
  private matchedTopics: readonly string[] = [];
  private reader: PartitionReader | null = null;
  /** For group-less commits and offset look-ups while no reader serves them; made on first use. */
  private offsetsCluster: Cluster | null = null;
  private paused = false;
  private closed = false;
  private closing: Promise<void> | null = null;
  private autoCommitting = false;
  private refreshing = false;
  /** Serializes everything that changes readers or positions; fetch and look-ups run alongside. */
  private queue: Promise<void> = Promise.resolve();

  constructor(session: KafkaSession, options: ConsumerInstanceOptions, logger: Logger, metrics?: Metrics) {
    this.session = session;
    this.options = options;
    this.logger = logger.child({ consumerGroup: options.group, consumerInstance: options.name });
    this.metrics = metrics ?? null;
    this.lastUsedMs = Date.now();
    this.buffer = new RecordBuffer(options.bufferMaxBytes);
    this.operationTimeoutMs = options.operationTimeoutMs ?? DEFAULT_OPERATION_TIMEOUT_MS;
    this.pollSettleMs = options.pollSettleMs ?? DEFAULT_POLL_SETTLE_MS;
    const autoCommitMs = options.autoCommitIntervalMs ?? DEFAULT_AUTO_COMMIT_INTERVAL_MS;
    this.autoCommitTimer = options.autoCommit ? setInterval(() => this.autoCommitTick(), autoCommitMs) : null;
    this.autoCommitTimer?.unref();
    const refreshMs = options.topicRefreshIntervalMs ?? DEFAULT_TOPIC_REFRESH_INTERVAL_MS;
    this.refreshTimer = setInterval(() => this.refreshTick(), refreshMs);
    this.refreshTimer.unref();
  }

  /** Bytes held in the record buffer (records fetched from Kafka, not yet returned by a poll). */
  get bufferedBytes(): number {
    return this.buffer.bytes;
  }

  /** True while fetching from Kafka is paused because the buffer is full. */
  get fetchPaused(): boolean {
    return this.paused;
  }

  /**
   * Subscribes to topics or a pattern, replacing any previous subscription or assignment, and
   * waits (bounded) for the first group join. Topics that do not exist yet, and topics a pattern
   * matches later, are picked up by a periodic re-match. Fails with KAFKA_AUTHZ_FAILED when the
   * group may not be used, KAFKA_UNAVAILABLE, KAFKA_ERROR.
   */
  subscribe(sub: { topics: string[] } | { pattern: RegExp }): Promise<void> {
    this.touch();
    return this.exclusive(async () => {
      this.assertOpen();
      let mode: Mode;
      if ('topics' in sub) {
        const topics = [...new Set(sub.topics)];
        if (topics.length === 0) return this.dropSubscription();
        mode = { kind: 'topics', topics };
      } else {
        // A stateful (g/y) regex would skip matches between test() calls.
        mode = {
          kind: 'pattern',
          pattern: new RegExp(sub.pattern.source, sub.pattern.flags.replace(/[gy]/g, '')),
        };
      }
      await this.replaceReader(mode, await this.resolveTopics(mode as Subscription), null, false);
    });
  }

  /** Topics subscribed; for a pattern, the matching topics known so far. */
  subscription(): string[] {
    this.touch();
    if (this.mode.kind === 'topics') return [...this.mode.topics];
    if (this.mode.kind === 'pattern') return [...this.matchedTopics];
    return [];
  }

  /**
   * Drops the subscription or manual assignment (as Java's unsubscribe does): leaves the group,
   * committing first when auto-commit is on, and forgets all positions.
   */
  unsubscribe(): Promise<void> {
    this.touch();
    return this.exclusive(async () => {
      this.assertOpen();
      await this.dropSubscription();
    });
  }

  /**
   * Takes exactly these partitions, replacing any previous assignment, and waits (bounded) for
   * the group join. Fails with CONSUMER_STATE_INVALID while subscribed, TOPIC_NOT_FOUND,
   * PARTITION_NOT_FOUND, KAFKA_AUTHZ_FAILED, KAFKA_UNAVAILABLE, KAFKA_ERROR.
   */
  assign(partitions: TopicPartition[]): Promise<void> {
    this.touch();
    return this.exclusive(async () => {
      this.assertOpen();
      if (this.mode.kind === 'topics' || this.mode.kind === 'pattern') {
        throw new ServiceError(
          'CONSUMER_STATE_INVALID',
          'the consumer instance is subscribed; unsubscribe first',
        );
      }
      const unique = new Map(partitions.map((tp) => [partitionKey(tp.topic, tp.partition), tp]));
      const wanted = [...unique.values()].map(({ topic, partition }) => ({ topic, partition }));
      if (wanted.length === 0) return this.dropSubscription();
      await assertPartitionsExist(this.session, wanted, this.operationTimeoutMs);
      await this.replaceReader({ kind: 'assigned', partitions: wanted }, uniqueTopics(wanted), wanted, false);
    });
  }

  /** The manual assignment, or the partitions the group gave this subscriber (empty when none). */
  assignment(): TopicPartition[] {
    this.touch();
    if (this.mode.kind === 'assigned') return this.mode.partitions.map((tp) => ({ ...tp }));
    return this.reader?.joined ? this.reader.assigned.map((tp) => ({ ...tp })) : [];
  }

  /**
   * The next fetch of each partition starts at its offset; buffered records of the partition are
   * dropped. Fails with CONSUMER_STATE_INVALID for a partition not assigned (yet).
   */
  seek(offsets: TopicPartitionOffset[]): Promise<void> {
    this.touch();
    return this.exclusive(async () => {
      this.assertOpen();
      if (offsets.length === 0) return;
      const reader = this.requireAssigned(offsets);
      for (const { topic, partition, offset } of offsets) this.applySeek(reader, topic, partition, offset);
    });
  }

  /** Seeks to the earliest offset still in the log. Codes as seek, plus TOPIC_NOT_FOUND/PARTITION_NOT_FOUND. */
  seekToBeginning(partitions: TopicPartition[]): Promise<void> {
    return this.seekToEnds(partitions, 'low');
  }

  /** Seeks to the log end (the next offset to be written). Codes as seekToBeginning. */
  seekToEnd(partitions: TopicPartition[]): Promise<void> {
    return this.seekToEnds(partitions, 'high');
  }

  /**
   * Waits up to `timeoutMs` for records, then gathers: oldest first, in offset order per
   * partition, summed key+value bytes within `maxBytes` (at least one record when any is
   * available). Once it has records it returns when `maxBytes` is reached, when the timeout
   * ends, or when a short follow-up wait (`pollSettleMs`) brings nothing new, so records that
   * arrive together (several partitions or topics of one fetch) come back together without
   * waiting out the timeout. Records not returned stay buffered for the next fetch. `0` for
   * either returns [] at once. Fails with the error that stopped the reader (KAFKA_AUTHZ_FAILED,
   * KAFKA_UNAVAILABLE, ...) when it has nothing to return, after which a new reader is started.
   */
  async fetch(timeoutMs: number, maxBytes: number): Promise<FetchedRecord[]> {
    this.touch();
    this.assertOpen();
    if (timeoutMs <= 0 || maxBytes <= 0) return [];
    const deadline = Date.now() + timeoutMs;
    const out: FetchedRecord[] = [];
    let bytes = 0;
    for (;;) {
      if (out.length === 0) await this.throwIfFailed();
      const taken = this.buffer.take(maxBytes - bytes, out.length === 0);
      if (taken.length > 0) {
        for (const record of taken) {
          out.push(record);
          bytes += recordBytes(record);
        }
        this.afterDrain();
      }
      // Full, or the next buffered record would not fit: nothing more to gather.
      if (out.length > 0 && (bytes >= maxBytes || this.buffer.count > 0)) return out;
      const left = deadline - Date.now();
      if (left <= 0 || this.closed) return out;
      const wait = out.length === 0 ? left : Math.min(left, this.pollSettleMs);
      const woken = await this.signal.wait(wait);
      if (!woken && out.length > 0) return out;
    }
  }

  /**
   * With offsets: commits offset + 1 for each (the offset given is the last record processed).
   * Without: commits the current positions. Fails with TOPIC_NOT_FOUND, PARTITION_NOT_FOUND,
   * KAFKA_AUTHZ_FAILED, KAFKA_UNAVAILABLE (also when the deadline passes), KAFKA_ERROR.
   */
  commit(offsets?: TopicPartitionOffset[]): Promise<void> {
    this.touch();
    return this.exclusive(async () => {
      this.assertOpen();
      if (offsets === undefined) return this.commitPositions(false, true);
      if (offsets.length === 0) return;
      const latest = new Map(offsets.map((o) => [partitionKey(o.topic, o.partition), o]));
      const entries = [...latest.values()].map(({ topic, partition, offset }) => ({
        topic,
        partition,
        offset: offset + 1,
      }));
      const reader = this.reader;
      await assertPartitionsExist(
        this.session,
        entries.filter((e) => !reader?.isAssigned(e.topic, e.partition)),
        this.operationTimeoutMs,
      );
      await this.commitOffsets(entries, true);
    });
  }

  /**
   * The group's committed offsets (-1 where none) with their metadata. Fails with
   * KAFKA_AUTHZ_FAILED when the group or topic may not be described, TOPIC_NOT_FOUND,
   * PARTITION_NOT_FOUND, KAFKA_UNAVAILABLE.
   */
  async committed(partitions: TopicPartition[]): Promise<Array<TopicPartitionOffset & { metadata: string }>> {
    this.touch();
    this.assertOpen();
    if (partitions.length === 0) return [];
    try {
      await assertPartitionsExist(this.session, partitions, this.operationTimeoutMs);
      // Straight from the group coordinator: no topic metadata involved, so no deleted topic
      // this session once used can get in the way (issue 12).
      const offsets = await committedOffsets(
        this.offsetsClient(),
        this.options.group,
        partitions,
        this.operationTimeoutMs,
      );
      return partitions.map(({ topic, partition }) => ({
        topic,
        partition,
        offset: offsets.get(partitionKey(topic, partition)) ?? -1,
        metadata: '',
      }));
    } catch (err) {
      throw await this.diagnose(toServiceError(err));
    }
  }

  /**
   * Commits what auto-commit promised (when on), leaves the group and drops the buffer.
   * Bounded by the operation deadline; never rejects.
   */
  close(reason: SessionCloseReason): Promise<void> {
    if (this.closing) return this.closing;
    this.closed = true;
    if (this.autoCommitTimer) clearInterval(this.autoCommitTimer);
    clearInterval(this.refreshTimer);
    this.signal.fire();
    this.reader?.wake();
    this.closing = this.queue
      .then(async () => {
        await this.retireReader();
        this.buffer.clear();
        this.mode = NO_MODE;
        await this.offsetsCluster?.disconnect().catch((err) => this.logBackground('disconnecting', err));
        this.logger.debug({ reason }, 'consumer instance closed');
      })
      .catch((err) => this.logBackground('close', err));
    return this.closing;
  }

  // --- readers ----------------------------------------------------------------------------

  /**
   * Stops the current reader and starts one for `topics` (none when empty). Buffered records
   * and positions of partitions the new reader may hold are kept. When the new reader fails at
   * once: with `keepFailed` it stays (fetch reports the failure); otherwise the instance is left
   * without subscription and the failure is thrown.
   */
  private async replaceReader(
    mode: Mode,
    topics: readonly string[],
    manual: readonly TopicPartition[] | null,
    keepFailed: boolean,
  ): Promise<void> {
    await this.retireReader();
    if (manual) {
      const keys = new Set(manual.map((tp) => partitionKey(tp.topic, tp.partition)));
      this.buffer.retain((topic, partition) => keys.has(partitionKey(topic, partition)));
    } else {
      const keep = new Set(topics);
      this.buffer.retain((topic) => keep.has(topic));
    }
    this.afterDrain();
    this.mode = mode;
    this.matchedTopics = topics;
    if (topics.length === 0) return;
    const reader = this.createReader(topics, manual);
    this.reader = reader;
    reader.start();
    await reader.awaitJoin();
    if (!reader.failure && !reader.joined && !this.closed) {
      this.logger.warn({ topics }, 'still joining the consumer group; continuing in the background');
    }
    if (reader.failure && !keepFailed) {
      this.reader = null;
      this.mode = NO_MODE;
      this.matchedTopics = [];
      this.buffer.clear();
      await reader.stop();
      throw await this.diagnose(reader.failure);
    }
  }

  private async dropSubscription(): Promise<void> {
    await this.retireReader();
    this.mode = NO_MODE;
    this.matchedTopics = [];
    this.buffer.clear();
    this.afterDrain();
  }

  /** Commits positions that moved (with auto-commit), then leaves the group. */
  private async retireReader(): Promise<void> {
    const reader = this.reader;
    if (!reader) return;
    if (this.options.autoCommit && reader.joined) {
      await this.commitPositions(true, false).catch((err) =>
        this.logBackground('commit before leaving', err),
      );
    }
    this.reader = null;
    await reader.stop();
  }

  /** A GroupReader for a subscription, a ManualReader (no group membership) for an assignment. */
  private createReader(topics: readonly string[], manual: readonly TopicPartition[] | null): PartitionReader {
    const settings = {
      group: this.options.group,
      topics,
      manual,
      fromBeginning: this.options.autoOffsetReset === 'earliest',
      fetchMinBytes: this.options.fetchMinBytes,
      bufferMaxBytes: this.options.bufferMaxBytes,
      operationTimeoutMs: this.operationTimeoutMs,
    };
    const hooks: ReaderHooks = {
      onBatch: (reader, records, nextOffset) => this.onBatch(reader, records, nextOffset),
      onJoin: (reader) => this.onJoin(reader),
      onCrash: (reader, failure, restart) => this.onCrash(reader, failure, restart),
      onRebalancing: (reader) => {
        // Commit while this generation still owns the partitions (best effort).
        if (reader === this.reader && this.options.autoCommit) this.autoCommitTick();
      },
      mayRestart: () => !this.closed,
      onBackgroundError: (what, err) => this.logBackground(what, err),
    };
    const kafka = this.session.kafka();
    return manual ? new ManualReader(kafka, settings, hooks) : new GroupReader(kafka, settings, hooks);
  }

  private onBatch(reader: PartitionReader, records: FetchedRecord[], nextOffset: number): boolean {
    if (reader !== this.reader || records.length === 0) return false;
    this.buffer.append(records[0]!.topic, records[0]!.partition, records, nextOffset);
    if (!this.paused && this.buffer.isFull()) {
      this.paused = true;
      reader.pause();
    }
    this.signal.fire();
    return true;
  }

  private onJoin(reader: PartitionReader): void {
    if (reader !== this.reader) return;
    // Revoked partitions: their records and positions go (another member reads them now).
    this.buffer.retain((topic, partition) => reader.isAssigned(topic, partition));
    // Kept partitions continue where the buffer ends, not at the committed offset.
    for (const { topic, partition } of reader.assigned) {
      const next = this.buffer.fetchOffset(topic, partition);
      if (next === null) continue;
      try {
        reader.seek(topic, partition, next);
      } catch (err) {
        this.logBackground('repositioning a kept partition', err);
      }
    }
    if (this.paused) reader.pause();
    this.afterDrain();
    this.signal.fire();
  }

  private onCrash(reader: PartitionReader, failure: ServiceError, restart: boolean): void {
    this.metrics?.kafkaErrors.labels(failure.code).inc();
    this.logger.warn({ code: failure.code, restart, err: failure.message }, 'Kafka consumer crashed');
    if (reader === this.reader) this.signal.fire();
  }

  /** A fetch saw the reader fail: report it, and start over with the same subscription. */
  private async throwIfFailed(): Promise<void> {
    const reader = this.reader;
    if (!reader?.failure) return;
    const failure = reader.failure;
    if (!reader.restarting) {
      reader.restarting = true;
      const { topics, manual } = reader.settings;
      void this.exclusive(async () => {
        if (this.closed || this.reader !== reader) return;
        await this.replaceReader(this.mode, topics, manual, true);
      }).catch((err) => this.logBackground('restarting the consumer', err));
    }
    throw await this.diagnose(failure);
  }

  /** Why a group operation failed, as well as it can be told (see diagnoseGroupFailure). */
  private diagnose(err: ServiceError): Promise<ServiceError> {
    return diagnoseGroupFailure(this.session, this.options.group, err, this.operationTimeoutMs);
  }

  // --- positions --------------------------------------------------------------------------

  /** After records left the buffer: resume fetching once it has room. */
  private afterDrain(): void {
    if (!this.paused || !this.buffer.hasRoom()) return;
    this.paused = false;
    this.reader?.resume();
  }

  private applySeek(reader: PartitionReader, topic: string, partition: number, offset: number): void {
    this.buffer.seek(topic, partition, offset);
    reader.seek(topic, partition, offset);
    this.afterDrain();
  }

  private requireAssigned(partitions: readonly TopicPartition[]): PartitionReader {
    const reader = this.reader;
    for (const { topic, partition } of partitions) {
      if (!reader?.isAssigned(topic, partition)) {
        const yet = reader !== null && !reader.joined ? ' yet' : '';
        throw new ServiceError(
          'CONSUMER_STATE_INVALID',
          `partition ${topic}-${partition} is not assigned to this consumer instance${yet}`,
        );
      }
    }
    return reader!;
  }

  private seekToEnds(partitions: TopicPartition[], end: 'low' | 'high'): Promise<void> {
    this.touch();
    return this.exclusive(async () => {
      this.assertOpen();
      if (partitions.length === 0) return;
      this.requireAssigned(partitions);
      const targets = await logEnds(this.session, partitions, end, this.operationTimeoutMs);
      // The assignment may have changed while we looked the offsets up.
      const reader = this.requireAssigned(partitions);
      for (const { topic, partition, offset } of targets) this.applySeek(reader, topic, partition, offset);
    });
  }

  // --- commits ----------------------------------------------------------------------------

  /** Commits known positions (`changedOnly`: those that moved since our last commit). */
  private async commitPositions(changedOnly: boolean, allowVisitor: boolean): Promise<void> {
    const due = this.buffer.positions(changedOnly);
    if (due.length === 0) return;
    await this.commitOffsets(due, allowVisitor);
  }

  /**
   * Commits through the current reader (a group member's generation-checked commit, or a manual
   * reader's group-less one). Without a reader (not subscribed or assigned, or between a crash
   * and its restart), and when `allowVisitor`, commits group-less: Kafka takes that while the
   * group has no active members, as for Java's standalone consumers.
   */
  private async commitOffsets(
    entries: readonly TopicPartitionOffset[],
    allowVisitor: boolean,
  ): Promise<void> {
    const reader = this.reader;
    if (reader?.joined && !reader.stopping) await reader.commit(entries);
    else if (allowVisitor)
      await commitWithoutMembership(
        this.offsetsClient(),
        this.options.group,
        entries,
        this.operationTimeoutMs,
      );
    else
      throw new KafkaError('KAFKA_UNAVAILABLE', 'the consumer is not in its group; commit again', null, true);
    this.buffer.markCommitted(entries);
  }

  private autoCommitTick(): void {
    if (this.closed || this.autoCommitting || !this.reader?.joined) return;
    if (this.buffer.positions(true).length === 0) return;
    this.autoCommitting = true;
    void this.exclusive(() => this.commitPositions(true, false))
      .catch((err) => this.logBackground('auto-commit', err))
      .finally(() => {
        this.autoCommitting = false;
      });
  }

  // --- topics -----------------------------------------------------------------------------

  /** The topics a subscription resolves to now: those that exist, or those the pattern matches. */
  private resolveTopics(subscription: Subscription): Promise<string[]> {
    return resolveTopics(this.session, subscription, this.operationTimeoutMs);
  }

  /** Picks up topics created after subscribing (new pattern matches, or listed but missing). */
  private refreshTick(): void {
    const mode = this.mode;
    const incomplete =
      mode.kind === 'pattern' || (mode.kind === 'topics' && this.matchedTopics.length < mode.topics.length);
    if (this.closed || this.refreshing || !incomplete) return;
    this.refreshing = true;
    void this.exclusive(async () => {
      if (this.closed || this.mode !== mode) return;
      const topics = await this.resolveTopics(mode as Subscription);
      const same =
        topics.length === this.matchedTopics.length && topics.every((t) => this.matchedTopics.includes(t));
      if (!same) await this.replaceReader(mode, topics, null, true);
    })
      .catch((err) => this.logBackground('matching the subscription again', err))
      .finally(() => {
        this.refreshing = false;
      });
  }

  // --- plumbing ---------------------------------------------------------------------------

  private offsetsClient(): Cluster {
    this.offsetsCluster ??= createCluster(this.session.kafka(), this.options.group);
    return this.offsetsCluster;
  }

  /** Runs `fn` after every earlier state change has finished; errors come out as ServiceErrors. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn).catch((err: unknown) => {
      throw toServiceError(err);
    });
    this.queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private assertOpen(): void {
    if (this.closed) throw new ServiceError('CONSUMER_NOT_FOUND', 'the consumer instance is closed');
  }

  private touch(): void {
    this.lastUsedMs = Date.now();
  }

  private logBackground(what: string, err: unknown): void {
    const failure = toServiceError(err);
    this.metrics?.kafkaErrors.labels(failure.code).inc();
    this.logger.warn({ code: failure.code, err: failure.message }, `consumer instance: ${what} failed`);
  }
}
