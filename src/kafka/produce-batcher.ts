import type { Message, RecordMetadata } from 'kafkajs';

/**
 * Coalesces the sends of one session's producer. The idempotent producer keeps one produce
 * request in flight per connection, so concurrent REST requests of a principal would each wait
 * for a round trip of their own. Instead, sends that arrive while a request is in flight are
 * queued and go out together as one request when it returns (Java's producer batches the same
 * way with `linger.ms`, here with no added wait).
 *
 * Each caller still gets its own offsets: the broker answers one base offset per partition for
 * the combined request, and a caller's records start after those of the callers queued before it.
 */

export interface QueuedSend {
  readonly topic: string;
  readonly messages: readonly Message[];
}

/** The base offset per partition of one caller's own records. */
export type SendResult = ReadonlyMap<number, number>;

interface Pending extends QueuedSend {
  resolve(result: SendResult): void;
  reject(err: unknown): void;
}

export type SendBatch = (request: {
  topicMessages: Array<{ topic: string; messages: Message[] }>;
}) => Promise<RecordMetadata[]>;

/**
 * kafkajs writes one record batch per partition, and the broker refuses a batch over the topic's
 * `max.message.bytes` (default 1 MiB): merged sends stop at this many key+value bytes (a single
 * larger send still goes, alone, and gets the broker's own answer).
 */
export const DEFAULT_MAX_MERGED_BYTES = 512 * 1024;

function sizeOf(messages: readonly Message[]): number {
  let bytes = 0;
  for (const m of messages) bytes += (m.key?.length ?? 0) + (m.value?.length ?? 0);
  return bytes;
}

/** How often partitions that kafkajs left unanswered are sent again before they count as failed. */
const MAX_RESENDS = 3;

const partitionKey = (topic: string, partition: number | undefined) => `${partition}\u0000${topic}`;

export class ProduceBatcher {
  private readonly queue: Array<Pending & { bytes: number }> = [];
  private flushing = false;
  private readonly sendBatch: SendBatch;
  private readonly maxMergedBytes: number;

  constructor(sendBatch: SendBatch, maxMergedBytes = DEFAULT_MAX_MERGED_BYTES) {
    this.sendBatch = sendBatch;
    this.maxMergedBytes = maxMergedBytes;
  }

  send(request: QueuedSend): Promise<SendResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ ...request, bytes: sizeOf(request.messages), resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    while (this.queue.length > 0) {
      let take = 1;
      let bytes = this.queue[0]!.bytes;
      while (take < this.queue.length && bytes + this.queue[take]!.bytes <= this.maxMergedBytes) {
        bytes += this.queue[take]!.bytes;
        take++;
      }
      const batch = this.queue.splice(0, take);
      const byTopic = new Map<string, Message[]>();
      for (const entry of batch) {
        let list = byTopic.get(entry.topic);
        if (!list) {
          list = [];
          byTopic.set(entry.topic, list);
        }
        for (const m of entry.messages) list.push(m);
      }
      try {
        const metadata = await this.sendAnswered(
          [...byTopic].map(([topic, messages]) => ({ topic, messages })),
        );
        const base = new Map<string, number>();
        for (const m of metadata) base.set(`${m.partition}\u0000${m.topicName}`, Number(m.baseOffset));
        // Records of a partition are appended in queue order: each caller's start is the batch's
        // base plus the records of that partition queued before it.
        const seen = new Map<string, number>();
        for (const entry of batch) {
          const result = new Map<number, number>();
          for (const m of entry.messages) {
            const key = `${m.partition}\u0000${entry.topic}`;
            if (!result.has(m.partition!))
              result.set(m.partition!, (base.get(key) ?? Number.NaN) + (seen.get(key) ?? 0));
            seen.set(key, (seen.get(key) ?? 0) + 1);
          }
          entry.resolve(result);
        }
      } catch (err) {
        for (const entry of batch) entry.reject(err);
      }
    }
    this.flushing = false;
  }

  /**
   * Sends and returns a base offset for every partition sent, as far as the broker answered.
   * kafkajs 2.2.4 can answer a send without some of its partitions: when a partition's leader
   * moved (NOT_LEADER_OR_FOLLOWER) to a broker that already answered for other partitions of
   * the same send, its retry skips that broker, and the partition is neither written nor
   * reported as failed (found by the rolling-restart test, issue 13). Those partitions are sent
   * again; the producer rolled their sequence numbers back, so idempotence still holds. A
   * partition still unanswered has no base offset, and its records are reported not written.
   */
  private async sendAnswered(
    topicMessages: Array<{ topic: string; messages: Message[] }>,
  ): Promise<RecordMetadata[]> {
    const answers: RecordMetadata[] = [];
    let pending = topicMessages;
    for (let attempt = 0; attempt <= MAX_RESENDS && pending.length > 0; attempt++) {
      const metadata = await this.sendBatch({ topicMessages: pending });
      const answered = new Set<string>();
      for (const m of metadata) {
        answers.push(m);
        answered.add(partitionKey(m.topicName, m.partition));
      }
      pending = pending
        .map(({ topic, messages }) => ({
          topic,
          messages: messages.filter((m) => !answered.has(partitionKey(topic, m.partition))),
        }))
        .filter((t) => t.messages.length > 0);
    }
    return answers;
  }
}
