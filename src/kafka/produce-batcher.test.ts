import assert from 'node:assert/strict';
import type { Message, RecordMetadata } from 'kafkajs';
import { ProduceBatcher, type SendBatch } from './produce-batcher.ts';

/** A fake broker: appends each partition's messages and answers base offsets, one request at a time. */
function fakeBroker() {
  const logs = new Map<string, Message[]>();
  const requests: number[] = [];
  const waiting: Array<() => void> = [];
  const sendBatch: SendBatch = async ({ topicMessages }) => {
    requests.push(topicMessages.reduce((n, t) => n + t.messages.length, 0));
    await new Promise<void>((resolve) => {
      waiting.push(resolve);
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
  // Answers every request in flight (one per partition since issue 13).
  return {
    sendBatch,
    logs,
    requests,
    release: () => {
      for (const resolve of waiting.splice(0)) resolve();
    },
  };
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
    assert.deepEqual(
      broker.requests,
      [1, 3, 1, 1],
      'the three later sends went out together, one request per partition',
    );
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
  it('sends again a partition kafkajs left unanswered, and only that one', async () => {
    const sent: string[][] = [];
    let droppedOnce = false;
    const batcher = new ProduceBatcher(async ({ topicMessages }) => {
      const messages = topicMessages.flatMap((t) => t.messages);
      sent.push(messages.map((m) => String(m.value)));
      const partition = messages[0]!.partition!;
      // The first answer for partition 1 leaves it out, as kafkajs does after a leader move.
      if (partition === 1 && !droppedOnce) {
        droppedOnce = true;
        return [];
      }
      return [{ topicName: 't', partition, errorCode: 0, baseOffset: String(10 * partition) }];
    });
    const result = await batcher.send({ topic: 't', messages: [msg(0, 'a'), msg(1, 'b'), msg(1, 'c')] });
    assert.deepEqual(sent, [['a'], ['b', 'c'], ['b', 'c']]);
    assert.deepEqual(
      [...result],
      [
        [0, 0],
        [1, 10],
      ],
    );
  });

  it('answers the partitions that were written when another one failed', async () => {
    const batcher = new ProduceBatcher(async ({ topicMessages }) => {
      const partition = topicMessages[0]!.messages[0]!.partition!;
      if (partition === 1) throw new Error('NOT_ENOUGH_REPLICAS');
      return [{ topicName: 't', partition, errorCode: 0, baseOffset: '5' }];
    });
    const result = await batcher.send({ topic: 't', messages: [msg(0, 'a'), msg(1, 'b')] });
    assert.equal(result.get(0), 5);
    assert.ok(Number.isNaN(result.get(1)), 'no base offset for the failed partition');
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
    assert.equal(calls, 5, 'one send per partition, then three resends of partition 1');
  });
});
