import assert from 'node:assert/strict';
import { hashToken, TokenCache } from './token-cache.ts';

describe('TokenCache', () => {
  const entry = (expiresAtMs: number) => ({ expiresAtMs });

  it('returns an entry until its expiry', () => {
    const cache = new TokenCache(10);
    const stored = entry(2000);
    cache.set('a', stored, 1000);
    assert.equal(cache.get('a', 1999), stored);
  });

  it('treats an entry at its expiry as a miss and evicts it', () => {
    const cache = new TokenCache(10);
    cache.set('a', entry(2000), 1000);
    assert.equal(cache.get('a', 2000), undefined);
    assert.equal(cache.size, 0);
  });

  it('does not store an entry that has already expired', () => {
    const cache = new TokenCache(10);
    cache.set('a', entry(1000), 1000);
    assert.equal(cache.size, 0);
  });

  it('evicts the least recently used entry beyond the bound', () => {
    const cache = new TokenCache(2);
    cache.set('a', entry(9000), 0);
    cache.set('b', entry(9000), 0);
    cache.get('a', 1);
    cache.set('c', entry(9000), 2);
    assert.equal(cache.size, 2);
    assert.equal(cache.get('b', 3), undefined);
    assert.ok(cache.get('a', 3));
    assert.ok(cache.get('c', 3));
  });

  it('stores nothing when the bound is zero', () => {
    const cache = new TokenCache(0);
    cache.set('a', entry(9000), 0);
    assert.equal(cache.get('a', 1), undefined);
  });

  it('forgets everything on clear', () => {
    const cache = new TokenCache(10);
    cache.set('a', entry(9000), 0);
    cache.clear();
    assert.equal(cache.get('a', 1), undefined);
  });
});

describe('hashToken', () => {
  it('is the base64url sha256 of the token', () => {
    // sha256("abc"), a FIPS 180-2 test vector.
    assert.equal(hashToken('abc'), 'ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0');
  });
});

describe('TokenCache under steady hits', () => {
  it('keeps an entry that is hit often while many others come and go', () => {
    const cache = new TokenCache(4);
    cache.set('hot', { expiresAtMs: 9000 }, 0);
    for (let i = 0; i < 100; i++) {
      cache.set(`cold${i}`, { expiresAtMs: 9000 }, 0);
      assert.ok(cache.get('hot', 1), `hot evicted after cold${i}`);
    }
    assert.equal(cache.size, 4);
  });
});
