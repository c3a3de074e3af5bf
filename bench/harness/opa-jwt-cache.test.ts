import assert from 'node:assert/strict';
import { modelRandomEvictionHits } from './opa-jwt-cache.ts';

describe('modelRandomEvictionHits', () => {
  it('finds every token again when the cache holds the whole pool', () => {
    assert.equal(modelRandomEvictionHits(100, 100, 1000), 1);
  });

  it('finds none again when the cache holds one entry and the pool has two', () => {
    assert.equal(modelRandomEvictionHits(2, 1, 1000), 0);
  });

  it('finds most of a pool 1.2× the cache again, where an LRU would find none', () => {
    // Steady state: a token survives the (1 − h) × 1.2 × capacity evictions between its visits
    // with probability exp(−1.2 (1 − h)) = h, so h ≈ 0.69.
    const hits = modelRandomEvictionHits(1200, 1000, 24000);
    assert.ok(hits > 0.6 && hits < 0.78, `hits ${hits}`);
  });
});
