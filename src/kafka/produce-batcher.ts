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
   * Sends one kafkajs request per partition, in parallel, and returns the base offset of every
   * partition the broker acknowledged. Rejects only when no partition was acknowledged.
   *
   * Why not one kafkajs send for all partitions: kafkajs 2.2.4 mishandles a send that spans
   * brokers when a leader moves (both found by the rolling-restart test, issue 13). It sends to
   * every leader at once and retries as soon as one fails, while another broker's request may
   * still be in flight; the retry sends that broker's records again with new sequence numbers,
   * so the broker stores them twice. And when a partition's leader moved to a broker that had
   * already answered, the retry skips it: the partition is neither written nor reported
   * failed. With one partition per send neither can happen. A partition still missing from an
   * answer is sent again (its sequence numbers were rolled back); one still unanswered after
   * that has no base offset, and its records are reported not written.
   */
  private async sendAnswered(
    topicMessages: Array<{ topic: string; messages: Message[] }>,
  ): Promise<RecordMetadata[]> {
    const answers: RecordMetadata[] = [];
    let failure: { reason: unknown } | null = null;
    let pending = splitByPartition(topicMessages);
    for (let attempt = 0; attempt <= MAX_RESENDS && pending.length > 0; attempt++) {
      const settled = await Promise.allSettled(
        pending.map((part) => this.sendBatch({ topicMessages: [part] })),
      );
      const unanswered: typeof pending = [];
      settled.forEach((outcome, i) => {
        const part = pending[i]!;
        if (outcome.status === 'rejected') {
          failure ??= { reason: outcome.reason };
          return;
        }
        const partition = part.messages[0]!.partition;
        const answer = outcome.value.find((m) => m.topicName === part.topic && m.partition === partition);
        if (answer) answers.push(answer);
        else unanswered.push(part);
      });
      pending = unanswered;
    }
    if (answers.length === 0 && failure !== null) throw (failure as { reason: unknown }).reason;
    return answers;
  }
}

/** One `{topic, messages}` per partition, messages in their original order. */
function splitByPartition(
  topicMessages: ReadonlyArray<{ topic: string; messages: Message[] }>,
): Array<{ topic: string; messages: Message[] }> {
  const parts = new Map<string, { topic: string; messages: Message[] }>();
  for (const { topic, messages } of topicMessages) {
    for (const m of messages) {
      const key = partitionKey(topic, m.partition);
      let part = parts.get(key);
      if (!part) {
        part = { topic, messages: [] };
        parts.set(key, part);
      }
      part.messages.push(m);
    }
  }
  return [...parts.values()];
}
