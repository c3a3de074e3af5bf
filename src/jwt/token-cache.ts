import { createHash } from 'node:crypto';

/**
 * Verified tokens by the token itself, so a token's signature is checked once rather than on
 * every request. Keyed by the token string, not its hash: a hit then costs one Map lookup
 * instead of a SHA-256 per request (issue #14); the hash is computed once, at verification, for
 * the logs. Entries live until the token's `exp` and the map is a bounded LRU: a Map iterates
 * in insertion order, so re-inserting an entry moves it to the young end and the first key is
 * the eviction victim.
 *
 * A hit re-inserts its entry only once the entry has aged past half the bound (counted in
 * insertions since it was last moved), not on every hit: a delete + set per hit makes V8 rebuild
 * the Map's table every few hits. An entry in use is still moved long before `maxEntries` newer
 * ones could evict it.
 */

/** sha256 of the token, base64url: the only form of a token we ever log. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

interface Slot<T> {
  readonly value: T;
  /** The insertion count when the entry was last (re)inserted. */
  stamp: number;
}

export class TokenCache<T extends { readonly expiresAtMs: number }> {
  readonly maxEntries: number;
  readonly #entries: Map<string, Slot<T>>;
  #insertions: number;

  constructor(maxEntries: number) {
    this.maxEntries = maxEntries;
    this.#entries = new Map();
    this.#insertions = 0;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The live entry for `token`, or undefined. An entry at or past its expiry is evicted, not returned. */
  get(token: string, nowMs: number): T | undefined {
    const slot = this.#entries.get(token);
    if (slot === undefined) return undefined;
    if (slot.value.expiresAtMs <= nowMs) {
      this.#entries.delete(token);
      return undefined;
    }
    if (this.#insertions - slot.stamp > this.maxEntries >> 1) {
      this.#entries.delete(token);
      slot.stamp = this.#insertions++;
      this.#entries.set(token, slot);
    }
    return slot.value;
  }

  /** Stores an entry unless it is already expired; evicts the least recently used beyond `maxEntries`. */
  set(token: string, value: T, nowMs: number): void {
    // A token inside the clock-skew window after exp verifies but is not kept:
    // the cache must never extend a token's life.
    if (this.maxEntries === 0 || value.expiresAtMs <= nowMs) return;
    this.#entries.delete(token);
    this.#entries.set(token, { value, stamp: this.#insertions++ });
    while (this.#entries.size > this.maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done) break;
      this.#entries.delete(oldest.value);
    }
  }

  clear(): void {
    this.#entries.clear();
  }
}
