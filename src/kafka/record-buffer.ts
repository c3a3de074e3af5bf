import { type FetchedRecord, partitionKey, type TopicPartitionOffset } from './consumer-types.ts';

/**
 * What sits between kafkajs's push-based fetching and a REST consumer's polls: the records
 * kafkajs delivered that no poll has taken yet, and per partition the positions they imply.
 * Pure bookkeeping: no clock, no I/O.
 *
 * Per partition:
 * - `position`: the next offset to hand to the client. A poll that returns offset n moves it to
 *   n + 1; a seek sets it. This is what "commit my current positions" commits.
 * - `fetchOffset`: the next offset expected from kafkajs (after the last buffered record, else
 *   the position), where fetching resumes when the partition is kept across a group rejoin.
 * - `committed`: the last offset this instance committed, so auto-commit skips partitions
 *   that did not move.
 *
 * Records are kept in arrival order across partitions, one chunk per kafkajs batch; within a
 * partition that is offset order, so polls return each partition's records in offset order.
 */

/**
 * Memory accounted per buffered record beyond its bytes (the objects around them), so that a
 * topic of empty records or tombstones still fills the buffer and pauses fetching.
 */
export const RECORD_OVERHEAD_BYTES = 64;

/** The bytes `max_bytes` counts: key plus value. */
export function recordBytes(record: FetchedRecord): number {
  return (record.key?.length ?? 0) + (record.value?.length ?? 0);
}

function bufferedBytes(record: FetchedRecord): number {
  let bytes = recordBytes(record) + RECORD_OVERHEAD_BYTES;
  for (const header of record.headers) bytes += header.key.length + (header.value?.length ?? 0);
  return bytes;
}

const keyOf = partitionKey;

interface PartitionState {
  readonly topic: string;
  readonly partition: number;
  position: number | null;
  fetchOffset: number | null;
  committed: number | null;
}

interface Chunk {
  readonly key: string;
  /** Taken records are nulled out so their bytes can be collected before the chunk is done. */
  readonly records: Array<FetchedRecord | null>;
  next: number;
}

export class RecordBuffer {
  /** Buffered bytes at or above which fetching pauses; it resumes at half of it. */
  readonly capBytes: number;
  private readonly states = new Map<string, PartitionState>();
  private chunks: Chunk[] = [];
  private head = 0;
  private bytesValue = 0;
  private countValue = 0;

  constructor(capBytes: number) {
    this.capBytes = capBytes;
  }

  /** Bytes of the buffered records (key, value, headers, plus a fixed overhead each). */
  get bytes(): number {
    return this.bytesValue;
  }

  /** Records buffered and not yet taken. */
  get count(): number {
    return this.countValue;
  }

  /** True when fetching should pause. */
  isFull(): boolean {
    return this.bytesValue >= this.capBytes;
  }

  /** True when paused fetching may resume: drained to half the cap, so it does not flap. */
  hasRoom(): boolean {
    return this.bytesValue <= this.capBytes / 2;
  }

  /**
   * Appends one partition's records, in offset order, as kafkajs delivered them. `nextOffset`
   * is where kafkajs continues (past trailing control records), when known.
   */
  append(topic: string, partition: number, records: readonly FetchedRecord[], nextOffset?: number): void {
    const state = this.stateOf(topic, partition);
    if (records.length > 0) {
      const key = keyOf(topic, partition);
      const copy: Array<FetchedRecord | null> = [];
      for (const record of records) {
        copy.push(record);
        this.bytesValue += bufferedBytes(record);
      }
      this.countValue += records.length;
      this.chunks.push({ key, records: copy, next: 0 });
      state.position ??= records[0]!.offset;
      state.fetchOffset = records[records.length - 1]!.offset + 1;
    }
    // Batches arrive in fetch order, so the latest one says where kafkajs continues.
    if (nextOffset !== undefined) state.fetchOffset = nextOffset;
  }

  /**
   * Takes records, oldest first, while their summed key+value bytes stay within `maxBytes`; the
   * first record is taken even when it alone is larger, unless `atLeastOne` is false (a poll
   * topping up what it already has). What is not taken stays for the next call. Moves each partition's position past the records taken.
   */
  take(maxBytes: number, atLeastOne = true): FetchedRecord[] {
    const out: FetchedRecord[] = [];
    let sum = 0;
    while (this.head < this.chunks.length) {
      const chunk = this.chunks[this.head]!;
      while (chunk.next < chunk.records.length) {
        const record = chunk.records[chunk.next]!;
        const size = recordBytes(record);
        if ((out.length > 0 || !atLeastOne) && sum + size > maxBytes) return this.finishTake(out);
        chunk.records[chunk.next] = null;
        chunk.next++;
        out.push(record);
        sum += size;
        this.bytesValue -= bufferedBytes(record);
        this.countValue--;
        const state = this.states.get(chunk.key)!;
        state.position = record.offset + 1;
        if (sum >= maxBytes) return this.finishTake(out);
      }
      this.head++;
    }
    return this.finishTake(out);
  }

  /** Drops the partition's buffered records; fetching and delivery continue at `offset`. */
  seek(topic: string, partition: number, offset: number): void {
    this.removeChunks(keyOf(topic, partition));
    const state = this.stateOf(topic, partition);
    state.position = offset;
    state.fetchOffset = offset;
  }

  /** Forgets every partition for which `keep` is false: records, positions and commits. */
  retain(keep: (topic: string, partition: number) => boolean): void {
    const dropped = new Set<string>();
    for (const [key, state] of this.states) {
      if (!keep(state.topic, state.partition)) dropped.add(key);
    }
    if (dropped.size === 0) return;
    for (const key of dropped) this.states.delete(key);
    this.removeChunks(dropped);
  }

  clear(): void {
    this.states.clear();
    this.chunks = [];
    this.head = 0;
    this.bytesValue = 0;
    this.countValue = 0;
  }

  /** True when the buffer holds any state (records or positions) for the partition. */
  has(topic: string, partition: number): boolean {
    return this.states.has(keyOf(topic, partition));
  }

  position(topic: string, partition: number): number | null {
    return this.states.get(keyOf(topic, partition))?.position ?? null;
  }

  fetchOffset(topic: string, partition: number): number | null {
    return this.states.get(keyOf(topic, partition))?.fetchOffset ?? null;
  }

  /** Known positions; with `changedOnly`, only those that differ from the last commit. */
  positions(changedOnly: boolean): TopicPartitionOffset[] {
    const out: TopicPartitionOffset[] = [];
    for (const state of this.states.values()) {
      if (state.position === null) continue;
      if (changedOnly && state.committed === state.position) continue;
      out.push({ topic: state.topic, partition: state.partition, offset: state.position });
    }
    return out;
  }

  /** Records that these offsets (next offsets to read) were committed, for partitions still held. */
  markCommitted(offsets: readonly TopicPartitionOffset[]): void {
    for (const { topic, partition, offset } of offsets) {
      const state = this.states.get(keyOf(topic, partition));
      if (state) state.committed = offset;
    }
  }

  private stateOf(topic: string, partition: number): PartitionState {
    const key = keyOf(topic, partition);
    let state = this.states.get(key);
    if (!state) {
      state = { topic, partition, position: null, fetchOffset: null, committed: null };
      this.states.set(key, state);
    }
    return state;
  }

  private removeChunks(keys: string | ReadonlySet<string>): void {
    const matches = typeof keys === 'string' ? (k: string) => k === keys : (k: string) => keys.has(k);
    const kept: Chunk[] = [];
    for (let i = this.head; i < this.chunks.length; i++) {
      const chunk = this.chunks[i]!;
      if (!matches(chunk.key)) {
        kept.push(chunk);
        continue;
      }
      for (let j = chunk.next; j < chunk.records.length; j++) {
        this.bytesValue -= bufferedBytes(chunk.records[j]!);
        this.countValue--;
      }
    }
    this.chunks = kept;
    this.head = 0;
  }

  private finishTake(out: FetchedRecord[]): FetchedRecord[] {
    // Drop consumed chunks from the front now and then, not on every take.
    if (this.head > 64 && this.head * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
    return out;
  }
}
