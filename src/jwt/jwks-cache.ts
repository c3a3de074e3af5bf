import { performance } from 'node:perf_hooks';
import {
  type CompactJWSHeaderParameters,
  createLocalJWKSet,
  type FlattenedJWSInput,
  type JSONWebKeySet,
  type JWTVerifyGetKey,
} from 'jose';
import type { IssuerConfig, JwtConfig } from '../config/schema.ts';
import { ServiceError } from '../errors.ts';
import { defaultDiscoveryUrl, discoverJwksUrl } from './discovery.ts';
import { createIssuerFetch } from './issuer-fetch.ts';
import { nextRefreshDelayMs, parseMaxAgeSec } from './refresh-schedule.ts';

/**
 * One issuer's signing keys and their lifecycle (issue 11). We fetch the JWKS
 * ourselves and hand each good answer to jose's local key set, because jose's
 * remote set ties "unknown kid" refetches to a cooldown that also runs after
 * periodic refreshes, which locked new keys out for up to the cooldown.
 *
 * - Refresh: every `jwksRefreshSec` (sooner when the JWKS answer's
 *   `Cache-Control: max-age` says so), so a key the IdP stops publishing stops
 *   verifying within that bound.
 * - Unknown `kid`: fetches again, at most once per `jwksCooldownSec` (a short
 *   floor that protects the IdP). Within the floor after a success the lookup
 *   waits for the next fetch rather than refusing, so a new key works at its
 *   first use.
 * - Outage: a failed fetch keeps the keys we hold; background retries back off
 *   (1 s doubling, capped); an unknown `kid` answers JWKS_REFRESH_FAILED (503,
 *   retryable), never a 401 that would make a client discard a valid token.
 *   The price: a key withdrawn while the IdP is unreachable stays trusted until
 *   a refresh succeeds — the same trade Kafka's broker validator makes.
 */

export type JwksFetchResult = 'ok' | 'error';

export interface KeySetDeps {
  /** Defaults to the global fetch. */
  readonly fetch?: typeof fetch;
  /** Called once per JWKS request that went out, with how it ended; a failed discovery counts as an error. */
  readonly onFetch?: (issuer: string, result: JwksFetchResult) => void;
  /** Called after a refresh dropped keys that were in the previous set. */
  readonly onKeysRemoved?: (issuer: string) => void;
  /** Monotonic milliseconds for the floor between fetches; defaults to performance.now. */
  readonly nowMs?: () => number;
}

type ResolvedKey = Awaited<ReturnType<JWTVerifyGetKey>>;
type LocalKeySet = ReturnType<typeof createLocalJWKSet>;

const MAX_JWKS_BYTES = 1024 * 1024;

export class IssuerKeySet {
  readonly issuer: string;
  /**
   * The key resolver for jwtVerify. Fails with JWKS_UNAVAILABLE when the set
   * was never loaded, JWKS_REFRESH_FAILED when a kid is unknown and the JWKS
   * cannot be fetched, or jose's no-matching-key errors when the IdP does not
   * publish the kid.
   */
  readonly resolveKey: JWTVerifyGetKey;

  readonly #configuredJwksUrl: string | undefined;
  readonly #discoveryUrl: string;
  readonly #timeoutMs: number;
  readonly #floorMs: number;
  readonly #refreshMs: number;
  readonly #fetch: typeof fetch;
  readonly #nowMs: () => number;
  readonly #onFetch: ((issuer: string, result: JwksFetchResult) => void) | undefined;
  readonly #onKeysRemoved: ((issuer: string) => void) | undefined;

  #jwksUrl: URL | undefined;
  #local: LocalKeySet | undefined;
  #keyFingerprints: ReadonlySet<string>;
  #lastAttemptAtMs: number;
  #lastAttemptOk: boolean;
  #consecutiveFailures: number;
  #inFlight: Promise<boolean> | undefined;
  #waiting: Promise<boolean> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopController: AbortController;
  #running: boolean;

  constructor(issuer: IssuerConfig, jwt: JwtConfig, deps: KeySetDeps = {}) {
    this.issuer = issuer.issuer;
    this.#configuredJwksUrl = issuer.jwksUrl;
    this.#discoveryUrl = issuer.discoveryUrl ?? defaultDiscoveryUrl(issuer.issuer);
    this.#timeoutMs = jwt.jwksTimeoutMs;
    this.#floorMs = jwt.jwksCooldownSec * 1000;
    this.#refreshMs = jwt.jwksRefreshSec * 1000;
    // A per-issuer CA trusts that CA for this issuer alone (never a process-wide switch).
    this.#fetch = deps.fetch ?? (issuer.caFile ? createIssuerFetch(issuer.caFile) : globalThis.fetch);
    this.#nowMs = deps.nowMs ?? (() => performance.now());
    this.#onFetch = deps.onFetch;
    this.#onKeysRemoved = deps.onKeysRemoved;
    this.#jwksUrl = undefined;
    this.#local = undefined;
    this.#keyFingerprints = new Set();
    this.#lastAttemptAtMs = Number.NEGATIVE_INFINITY;
    this.#lastAttemptOk = false;
    this.#consecutiveFailures = 0;
    this.#inFlight = undefined;
    this.#waiting = undefined;
    this.#timer = undefined;
    this.#stopController = new AbortController();
    this.#running = false;
    this.resolveKey = (header, token) => this.#resolveKey(header, token);
  }

  /** True once keys have been fetched at least once. */
  isLoaded(): boolean {
    return this.#local !== undefined;
  }

  /** Loads the keys now and then keeps them fresh on an unref'd timer. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    if (this.#stopController.signal.aborted) this.#stopController = new AbortController();
    void this.#fetchNow();
  }

  /** Stops the refresh timer and aborts fetches in flight. Known keys stay usable. */
  stop(): void {
    this.#running = false;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#stopController.abort();
  }

  /** Fetches the key set now, bypassing the floor; resolves false when it failed. Never rejects. */
  refresh(): Promise<boolean> {
    return this.#fetchNow();
  }

  // Every fetch, background or on demand, sets the next one: after a success
  // the refresh interval counts from it; after a failure the backoff applies.
  #schedule(maxAgeSec?: number): void {
    if (!this.#running) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    const delayMs = nextRefreshDelayMs({
      ok: this.#lastAttemptOk,
      consecutiveFailures: this.#consecutiveFailures,
      maxAgeSec,
      refreshMs: this.#refreshMs,
      floorMs: this.#floorMs,
    });
    this.#timer = setTimeout(() => void this.#fetchNow(), delayMs);
    this.#timer.unref();
  }

  async #resolveKey(header: CompactJWSHeaderParameters, token: FlattenedJWSInput): Promise<ResolvedKey> {
    if (this.#local === undefined) {
      await this.#fetchOnDemand();
      // Fail closed: without keys nothing verifies, and the caller should see a dependency problem, not a bad token.
      if (this.#local === undefined) {
        throw new ServiceError('JWKS_UNAVAILABLE', `no keys loaded yet for ${this.issuer}`);
      }
    }
    try {
      return await this.#local(header, token);
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'ERR_JWKS_NO_MATCHING_KEY') throw err;
    }
    // An unknown kid: the IdP may have added a key since our last fetch.
    if (!(await this.#fetchOnDemand())) {
      throw new ServiceError(
        'JWKS_REFRESH_FAILED',
        `no key for this kid, and the JWKS of ${this.issuer} cannot be fetched right now`,
      );
    }
    return await this.#local(header, token);
  }

  // A fetch for a key we do not hold. Within the floor after a success it
  // waits for the floor to pass (all such lookups share one fetch); within
  // the floor after a failure it answers false at once, so requests never
  // queue behind a dead IdP.
  #fetchOnDemand(): Promise<boolean> {
    if (this.#inFlight !== undefined) return this.#inFlight;
    if (this.#waiting !== undefined) return this.#waiting;
    const waitMs = this.#lastAttemptAtMs + this.#floorMs - this.#nowMs();
    if (waitMs <= 0) return this.#fetchNow();
    if (!this.#lastAttemptOk) return Promise.resolve(false);
    this.#waiting = new Promise<void>((resolve) => setTimeout(resolve, waitMs).unref())
      .then(() => this.#fetchNow())
      .finally(() => {
        this.#waiting = undefined;
      });
    return this.#waiting;
  }

  #fetchNow(): Promise<boolean> {
    if (this.#inFlight !== undefined) return this.#inFlight;
    this.#inFlight = this.#load().finally(() => {
      this.#inFlight = undefined;
    });
    return this.#inFlight;
  }

  async #load(): Promise<boolean> {
    this.#lastAttemptAtMs = this.#nowMs();
    let maxAgeSec: number | undefined;
    try {
      const url = await this.#resolveJwksUrl();
      const signal = AbortSignal.any([AbortSignal.timeout(this.#timeoutMs), this.#stopController.signal]);
      const response = await this.#fetch(url, {
        signal,
        redirect: 'manual',
        headers: { accept: 'application/json' },
      });
      if (response.status !== 200) {
        await response.body?.cancel();
        throw new Error(`expected HTTP 200, got ${response.status}`);
      }
      maxAgeSec = parseMaxAgeSec(response.headers.get('cache-control'));
      const text = await response.text();
      if (text.length > MAX_JWKS_BYTES) throw new Error('JWKS response too large');
      const jwks = parseKeySet(text);
      this.#swap(jwks);
    } catch {
      this.#lastAttemptOk = false;
      this.#consecutiveFailures++;
      this.#onFetch?.(this.issuer, 'error');
      this.#schedule();
      return false;
    }
    this.#lastAttemptOk = true;
    this.#consecutiveFailures = 0;
    this.#onFetch?.(this.issuer, 'ok');
    this.#schedule(maxAgeSec);
    return true;
  }

  async #resolveJwksUrl(): Promise<URL> {
    if (this.#jwksUrl !== undefined) return this.#jwksUrl;
    if (this.#configuredJwksUrl !== undefined) {
      this.#jwksUrl = new URL(this.#configuredJwksUrl);
    } else {
      const signal = AbortSignal.any([AbortSignal.timeout(this.#timeoutMs), this.#stopController.signal]);
      this.#jwksUrl = await discoverJwksUrl(this.issuer, this.#discoveryUrl, this.#fetch, signal);
    }
    return this.#jwksUrl;
  }

  #swap(jwks: { keySet: JSONWebKeySet; fingerprints: Set<string> }): void {
    let removed = false;
    if (this.#local !== undefined) {
      for (const fingerprint of this.#keyFingerprints) {
        if (!jwks.fingerprints.has(fingerprint)) removed = true;
      }
    }
    this.#local = createLocalJWKSet(jwks.keySet);
    this.#keyFingerprints = jwks.fingerprints;
    // After the swap, so listeners that drop state derived from old keys cannot race it.
    if (removed) this.#onKeysRemoved?.(this.issuer);
  }
}

/** Creates one issuer's key set; nothing is fetched until start(), refresh() or the first key lookup. */
export function createIssuerKeySet(issuer: IssuerConfig, jwt: JwtConfig, deps?: KeySetDeps): IssuerKeySet {
  return new IssuerKeySet(issuer, jwt, deps);
}

// The JWKS must be `{"keys": [objects]}` (RFC 7517 §5); checked here so a
// malformed answer counts as a failed fetch and never replaces a good set.
function parseKeySet(text: string): { keySet: JSONWebKeySet; fingerprints: Set<string> } {
  const jwks: unknown = JSON.parse(text);
  if (typeof jwks !== 'object' || jwks === null || !Array.isArray((jwks as { keys?: unknown }).keys)) {
    throw new Error('expected a JSON Web Key Set: {"keys": [...]}');
  }
  const keys = (jwks as { keys: unknown[] }).keys;
  const fingerprints = new Set<string>();
  for (const key of keys) {
    if (typeof key !== 'object' || key === null || Array.isArray(key))
      throw new Error('expected JWKS keys to be objects');
    fingerprints.add(JSON.stringify(key));
  }
  return { keySet: { keys: keys as JSONWebKeySet['keys'] }, fingerprints };
}
