import assert from 'node:assert/strict';
import { murmur2, partitionForKey } from './produce.ts';

describe('produce partitioning', () => {
  // Expected values: Kafka's own murmur2 test vectors (clients UtilsTest), so keyed records land
  // on the partition a Java producer would choose.
  const vectors: Array<[string, number]> = [
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ['abc', 479470107],
  ];
  for (const [input, expected] of vectors) {
    it(`hashes ${JSON.stringify(input)} as Kafka's murmur2 does`, () => {
      assert.equal(murmur2(Buffer.from(input)), expected);
    });
  }

  it('maps a key to toPositive(murmur2) modulo the partition count', () => {
    assert.equal(partitionForKey(Buffer.from('foobar'), 3), (-790332482 & 0x7fffffff) % 3);
    for (let i = 0; i < 100; i++) {
      const p = partitionForKey(Buffer.from(`key-${i}`), 7);
      assert.ok(p >= 0 && p < 7);
    }
  });
});
