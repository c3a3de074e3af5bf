import assert from 'node:assert/strict';
import type { FetchedRecord } from './consumer-types.ts';
import { RECORD_OVERHEAD_BYTES, RecordBuffer, recordBytes } from './record-buffer.ts';

function rec(topic: string, partition: number, offset: number, valueBytes = 10, keyBytes = 0): FetchedRecord {
  return {
    topic,
    partition,
    offset,
    timestamp: 1_700_000_000_000,
    key: keyBytes > 0 ? Buffer.alloc(keyBytes, 1) : null,
    value: Buffer.alloc(valueBytes, 2),
    headers: [],
  };
}

function recs(
  topic: string,
  partition: number,
  from: number,
  count: number,
  valueBytes = 10,
): FetchedRecord[] {
  return Array.from({ length: count }, (_, i) => rec(topic, partition, from + i, valueBytes));
}

const offsets = (records: FetchedRecord[]) => records.map((r) => `${r.topic}/${r.partition}@${r.offset}`);

describe('RecordBuffer', () => {
  it('counts key and value bytes for max_bytes', () => {
    assert.equal(recordBytes(rec('t', 0, 0, 7, 3)), 10);
    assert.equal(recordBytes({ ...rec('t', 0, 0), key: null, value: null }), 0);
  });

  it('returns records oldest first and keeps each partition in offset order', () => {
    const buffer = new RecordBuffer(1 << 20);
    buffer.append('a', 0, recs('a', 0, 0, 2));
    buffer.append('a', 1, recs('a', 1, 5, 2));
    buffer.append('a', 0, recs('a', 0, 2, 1));
    assert.deepEqual(offsets(buffer.take(1 << 20)), ['a/0@0', 'a/0@1', 'a/1@5', 'a/1@6', 'a/0@2']);
    assert.equal(buffer.count, 0);
    assert.equal(buffer.bytes, 0);
  });

  it('stops before the record that would exceed max_bytes and keeps it for the next take', () => {
    const buffer = new RecordBuffer(1 << 20);
    buffer.append('a', 0, recs('a', 0, 0, 5, 10));
    assert.deepEqual(offsets(buffer.take(25)), ['a/0@0', 'a/0@1']);
    assert.deepEqual(offsets(buffer.take(30)), ['a/0@2', 'a/0@3', 'a/0@4']);
    assert.deepEqual(buffer.take(30), []);
  });

  it('stops as soon as the summed bytes reach max_bytes', () => {
    const buffer = new RecordBuffer(1 << 20);
    buffer.append('a', 0, recs('a', 0, 0, 3, 10));
    assert.deepEqual(offsets(buffer.take(20)), ['a/0@0', 'a/0@1']);
  });

  it('returns one record larger than max_bytes rather than nothing', () => {
    const buffer = new RecordBuffer(1 << 20);
    buffer.append('a', 0, [rec('a', 0, 0, 100), rec('a', 0, 1, 1)]);
    assert.deepEqual(offsets(buffer.take(10)), ['a/0@0']);
    assert.deepEqual(offsets(buffer.take(10)), ['a/0@1']);
  });

  it('takes nothing when topping up a poll and the next record would not fit the rest of max_bytes', () => {
    const buffer = new RecordBuffer(1 << 20);
    buffer.append('t', 0, [rec('t', 0, 0, 50)]);
    assert.deepEqual(buffer.take(20, false), []);
    assert.equal(buffer.count, 1, 'the record stays for the next poll');
    assert.deepEqual(offsets(buffer.take(60, false)), ['t/0@0']);
  });

  it('neither loses nor repeats records across many small takes', () => {
    const buffer = new RecordBuffer(1 << 20);
    for (let batch = 0; batch < 50; batch++)
      buffer.append(`t${batch % 3}`, 0, recs(`t${batch % 3}`, 0, batch * 10, 10, 7));
    const seen: string[] = [];
    for (let guard = 0; guard < 10_000 && buffer.count > 0; guard++) seen.push(...offsets(buffer.take(23)));
    assert.equal(seen.length, 500);
    assert.equal(new Set(seen).size, 500);
    assert.equal(buffer.bytes, 0);
  });

  it('accounts header bytes and a per-record overhead, so empty records fill it too', () => {
    const buffer = new RecordBuffer(10 * RECORD_OVERHEAD_BYTES);
    const empty = { ...rec('a', 0, 0), value: null };
    buffer.append(
      'a',
      0,
      Array.from({ length: 9 }, (_, i) => ({ ...empty, offset: i })),
    );
    assert.equal(buffer.isFull(), false);
    buffer.append('a', 0, [{ ...empty, offset: 9, headers: [{ key: 'h', value: Buffer.alloc(4) }] }]);
    assert.equal(buffer.bytes, 10 * RECORD_OVERHEAD_BYTES + 5);
    assert.equal(buffer.isFull(), true);
  });

  it('is full at its cap and has room again only at half of it', () => {
    const perRecord = 100 + RECORD_OVERHEAD_BYTES;
    const buffer = new RecordBuffer(4 * perRecord);
    buffer.append('a', 0, recs('a', 0, 0, 4, 100));
    assert.equal(buffer.isFull(), true);
    buffer.take(100);
    assert.equal(buffer.isFull(), false);
    assert.equal(buffer.hasRoom(), false);
    buffer.take(100);
    assert.equal(buffer.hasRoom(), true);
  });

  describe('positions', () => {
    it('moves a partition position past each record taken', () => {
      const buffer = new RecordBuffer(1 << 20);
      buffer.append('a', 0, recs('a', 0, 10, 3));
      assert.equal(buffer.position('a', 0), 10);
      buffer.take(10);
      assert.equal(buffer.position('a', 0), 11);
      buffer.take(100);
      assert.equal(buffer.position('a', 0), 13);
    });

    it('continues fetching after the last buffered record, or where kafkajs said', () => {
      const buffer = new RecordBuffer(1 << 20);
      buffer.append('a', 0, recs('a', 0, 0, 3));
      assert.equal(buffer.fetchOffset('a', 0), 3);
      // A trailing transaction marker at offset 3: kafkajs continues at 4.
      buffer.append('a', 0, [], 4);
      assert.equal(buffer.fetchOffset('a', 0), 4);
      assert.equal(buffer.position('a', 0), 0);
    });

    it('drops the partition records on seek and continues at the offset', () => {
      const buffer = new RecordBuffer(1 << 20);
      buffer.append('a', 0, recs('a', 0, 0, 5));
      buffer.append('a', 1, recs('a', 1, 0, 2));
      buffer.seek('a', 0, 2);
      assert.equal(buffer.position('a', 0), 2);
      assert.equal(buffer.fetchOffset('a', 0), 2);
      assert.deepEqual(offsets(buffer.take(1 << 20)), ['a/1@0', 'a/1@1']);
      assert.equal(buffer.count, 0);
    });

    it('lists positions, and only moved ones once committed', () => {
      const buffer = new RecordBuffer(1 << 20);
      buffer.append('a', 0, recs('a', 0, 0, 2));
      buffer.append('a', 1, recs('a', 1, 0, 2));
      buffer.take(1 << 20);
      assert.deepEqual(buffer.positions(true), [
        { topic: 'a', partition: 0, offset: 2 },
        { topic: 'a', partition: 1, offset: 2 },
      ]);
      buffer.markCommitted([{ topic: 'a', partition: 0, offset: 2 }]);
      assert.deepEqual(buffer.positions(true), [{ topic: 'a', partition: 1, offset: 2 }]);
      assert.equal(buffer.positions(false).length, 2);
    });

    it('forgets records, positions and commits of partitions it no longer keeps', () => {
      const buffer = new RecordBuffer(1 << 20);
      buffer.append('a', 0, recs('a', 0, 0, 3));
      buffer.append('b', 0, recs('b', 0, 0, 3));
      buffer.append('a', 1, recs('a', 1, 0, 3));
      buffer.retain((topic, partition) => topic === 'a' && partition === 1);
      assert.equal(buffer.has('a', 0), false);
      assert.equal(buffer.position('b', 0), null);
      assert.equal(buffer.count, 3);
      assert.deepEqual(offsets(buffer.take(1 << 20)), ['a/1@0', 'a/1@1', 'a/1@2']);
      assert.equal(buffer.bytes, 0);
    });
  });
});
