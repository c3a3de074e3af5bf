import assert from 'node:assert/strict';
import type { Message, RecordMetadata } from 'kafkajs';
import { ProduceBatcher, type SendBatch } from './produce-batcher.ts';

/** A fake broker: appends each partition's messages and answers base offsets, one request at a time. */
function fakeBroker() {
  const logs = new Map<string, Message[]>();
  const requests: number[] = [];
  let release: (() => void) | null = null;
  const sendBatch: SendBatch = async ({ topicMessages }) => {
    requests.push(topicMessages.reduce((n, t) => n + t.messages.length, 0));
    await new Promise<void>((resolve) => {
      release = resolve;
    });
    const out: RecordMetadata[] = [];
    for (const { topic, messages } of topicMessages) {
      const seen = new Set<number>();
      for (const m of messages) {
        const key = `${topic}/${m.partition}`;
        const log = logs.get(key) ?? [];
        if (!seen.has(m.partition!)) {
          out.push({
            topicName: topic,
            partition: m.partition!,
            errorCode: 0,
            baseOffset: String(log.length),
          });
          seen.add(m.partition!);
        }
        log.push(m);
        logs.set(key, log);
      }
    }
    return out;
  };
  return { sendBatch, logs, requests, release: () => release?.() };
}

const msg = (partition: number, value: string): Message => ({ partition, value });
const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('ProduceBatcher', () => {
  it('sends alone when nothing is in flight, and merges sends that arrive meanwhile', async () => {
    const broker = fakeBroker();
    const batcher = new ProduceBatcher(broker.sendBatch);
    const first = batcher.send({ topic: 't', messages: [msg(0, 'a')] });
    await tick();
    const second = batcher.send({ topic: 't', messages: [msg(0, 'b'), msg(1, 'c')] });
    const third = batcher.send({ topic: 'u', messages: [msg(0, 'd')] });
    const fourth = batcher.send({ topic: 't', messages: [msg(0, 'e'), msg(0, 'f')] });
    broker.release();
    await tick();
    await tick();
    broker.release();
    assert.deepEqual([...(await first)], [[0, 0]]);
    assert.deepEqual(broker.requests, [1, 5], 'the three later sends went out as one request');
    assert.deepEqual(
      [...(await second)],
      [
        [0, 1],
        [1, 0],
      ],
    );
    assert.deepEqual([...(await third)], [[0, 0]]);
    assert.deepEqual([...(await fourth)], [[0, 2]], 'offsets continue after the callers queued before');
    assert.deepEqual(
      broker.logs.get('t/0')!.map((m) => m.value),
      ['a', 'b', 'e', 'f'],
    );
  });

  it('stops merging at the byte budget, so no partition batch outgrows the broker limit', async () => {
    const broker = fakeBroker();
    const batcher = new ProduceBatcher(broker.sendBatch, 10);
    const first = batcher.send({ topic: 't', messages: [msg(0, 'x')] });
    await tick();
    const sends = ['aaaa', 'bbbb', 'cccc', 'dddddddddddddddd'].map((v) =>
      batcher.send({ topic: 't', messages: [msg(0, v)] }),
    );
    for (let i = 0; i < 4; i++) {
      broker.release();
      await tick();
      await tick();
    }
    await Promise.all([first, ...sends]);
    assert.deepEqual(broker.requests, [1, 2, 1, 1], '4+4 merge; 4+16 would pass 10 bytes; 16 goes alone');
  });

  it('fails every caller of a failed request, and keeps serving afterwards', async () => {
    let calls = 0;
    const batcher = new ProduceBatcher(async () => {
      calls++;
      if (calls === 1) throw new Error('broker said no');
      return [{ topicName: 't', partition: 0, errorCode: 0, baseOffset: '7' }];
    });
    await assert.rejects(batcher.send({ topic: 't', messages: [msg(0, 'a')] }), /broker said no/);
    assert.deepEqual([...(await batcher.send({ topic: 't', messages: [msg(0, 'b')] }))], [[0, 7]]);
  });

  // Issue 13: kafkajs 2.2.4 answered a send without a partition whose leader had moved.
  it('sends again the partitions kafkajs left unanswered, and only those', async () => {
    const sent: string[][] = [];
    const batcher = new ProduceBatcher(async ({ topicMessages }) => {
      const messages = topicMessages.flatMap((t) => t.messages);
      sent.push(messages.map((m) => String(m.value)));
      const partitions = [...new Set(messages.map((m) => m.partition!))];
      // The first answer drops partition 1, as kafkajs does after a leader move.
      const answered = sent.length === 1 ? partitions.filter((p) => p !== 1) : partitions;
      return answered.map((p) => ({
        topicName: 't',
        partition: p,
        errorCode: 0,
        baseOffset: String(10 * p),
      }));
    });
    const result = await batcher.send({ topic: 't', messages: [msg(0, 'a'), msg(1, 'b'), msg(1, 'c')] });
    assert.deepEqual(sent, [
      ['a', 'b', 'c'],
      ['b', 'c'],
    ]);
    assert.deepEqual(
      [...result],
      [
        [0, 0],
        [1, 10],
      ],
    );
  });

  it('gives no offset for a partition that stays unanswered', async () => {
    let calls = 0;
    const batcher = new ProduceBatcher(async () => {
      calls++;
      return [{ topicName: 't', partition: 0, errorCode: 0, baseOffset: '3' }];
    });
    const result = await batcher.send({ topic: 't', messages: [msg(0, 'a'), msg(1, 'b')] });
    assert.equal(result.get(0), 3);
    assert.ok(Number.isNaN(result.get(1)), 'no base offset for partition 1');
    assert.equal(calls, 4, 'the first send and three resends');
  });
});
