import { createHash } from 'node:crypto';

/**
 * Verified tokens by hash, so a token's signature is checked once rather than
 * on every request. Entries live until the token's `exp` and the map is a
 * bounded LRU: a Map iterates in insertion order, so delete + set on a hit
 * moves an entry to the young end and the first key is the eviction victim.
 */

/** sha256 of the token, base64url: the cache key, and the only form of a token we ever log. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

export class TokenCache<T extends { readonly expiresAtMs: number }> {
  readonly maxEntries: number;
  readonly #entries: Map<string, T>;

  constructor(maxEntries: number) {
    this.maxEntries = maxEntries;
    this.#entries = new Map();
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The live entry for `tokenHash`, or undefined. An entry at or past its expiry is evicted, not returned. */
  get(tokenHash: string, nowMs: number): T | undefined {
    const entry = this.#entries.get(tokenHash);
    if (entry === undefined) return undefined;
    this.#entries.delete(tokenHash);
    if (entry.expiresAtMs <= nowMs) return undefined;
    this.#entries.set(tokenHash, entry);
    return entry;
  }

  /** Stores an entry unless it is already expired; evicts the least recently used beyond `maxEntries`. */
  set(tokenHash: string, entry: T, nowMs: number): void {
    // A token inside the clock-skew window after exp verifies but is not kept:
    // the cache must never extend a token's life.
    if (this.maxEntries === 0 || entry.expiresAtMs <= nowMs) return;
    this.#entries.delete(tokenHash);
    this.#entries.set(tokenHash, entry);
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
