import { performance } from 'node:perf_hooks';
import {
  type CompactJWSHeaderParameters,
  createRemoteJWKSet,
  customFetch,
  type FetchImplementation,
  type FlattenedJWSInput,
  type JWTVerifyGetKey,
  type RemoteJWKSet,
} from 'jose';
import type { IssuerConfig, JwtConfig } from '../config/schema.ts';
import { ServiceError } from '../errors.ts';
import { defaultDiscoveryUrl, discoverJwksUrl } from './discovery.ts';
import { createIssuerFetch } from './issuer-fetch.ts';

/**
 * One issuer's signing keys: a jose remote key set plus the policy around it.
 *
 * - jose's own age-based expiry is off (`cacheMaxAge: Infinity`): left on, a
 *   stale set makes every request wait for a refetch and then fail while the
 *   IdP is down, which would drop keys we already know. Freshness comes from
 *   our background refresh every `jwksRefreshSec` instead.
 * - An unknown `kid` refetches at most once per `jwksCooldownSec` after a
 *   success (jose), and — our addition — at most once per cooldown after a
 *   failure, so a stream of unknown kids cannot hammer a dead IdP or make
 *   every request wait out a timeout.
 * - A failed fetch never replaces the keys we hold (jose keeps its set). The
 *   price: a key withdrawn while the IdP is unreachable stays trusted until a
 *   refresh succeeds — the same trade Kafka's broker validator makes.
 */

export type JwksFetchResult = 'ok' | 'error';

export interface KeySetDeps {
  /** Defaults to the global fetch. */
  readonly fetch?: typeof fetch;
  /** Called once per JWKS request that went out, with how it ended; a failed discovery counts as an error. */
  readonly onFetch?: (issuer: string, result: JwksFetchResult) => void;
  /** Called after a refresh dropped keys that were in the previous set. */
  readonly onKeysRemoved?: (issuer: string) => void;
}

type ResolvedKey = Awaited<ReturnType<RemoteJWKSet>>;

const MAX_JWKS_BYTES = 1024 * 1024;
const MIN_RETRY_MS = 1000;

/** Raised inside our fetch so a fetch failure can be told apart from a key lookup failure. */
class JwksFetchError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'JwksFetchError';
  }
}

export class IssuerKeySet {
  readonly issuer: string;
  /**
   * The key resolver for jwtVerify. Fails with JWKS_UNAVAILABLE when the set
   * was never loaded, JWT_KEY_UNKNOWN when a refetch for an unknown kid
   * failed, or jose's own no-matching-key errors.
   */
  readonly resolveKey: JWTVerifyGetKey;

  readonly #configuredJwksUrl: string | undefined;
  readonly #discoveryUrl: string;
  readonly #timeoutMs: number;
  readonly #cooldownMs: number;
  readonly #refreshMs: number;
  readonly #retryMs: number;
  readonly #fetch: typeof fetch;
  readonly #onFetch: ((issuer: string, result: JwksFetchResult) => void) | undefined;
  readonly #onKeysRemoved: ((issuer: string) => void) | undefined;
  readonly #fetchJwks: FetchImplementation;

  #remote: RemoteJWKSet | undefined;
  #loaded: boolean;
  #loading: Promise<boolean> | undefined;
  #lastFailureAtMs: number;
  #bypassFailureCooldown: boolean;
  #keyFingerprints: ReadonlySet<string>;
  #keysRemoved: boolean;
  #timer: NodeJS.Timeout | undefined;
  #stopController: AbortController;
  #running: boolean;

  constructor(issuer: IssuerConfig, jwt: JwtConfig, deps: KeySetDeps = {}) {
    this.issuer = issuer.issuer;
    this.#configuredJwksUrl = issuer.jwksUrl;
    this.#discoveryUrl = issuer.discoveryUrl ?? defaultDiscoveryUrl(issuer.issuer);
    this.#timeoutMs = jwt.jwksTimeoutMs;
    this.#cooldownMs = jwt.jwksCooldownSec * 1000;
    this.#refreshMs = jwt.jwksRefreshSec * 1000;
    // Until the first success (or after a failure) retry sooner than the
    // refresh period, but never faster than the cooldown or once a second.
    this.#retryMs = Math.min(this.#refreshMs, Math.max(MIN_RETRY_MS, this.#cooldownMs));
    // A per-issuer CA trusts that CA for this issuer alone (never a process-wide switch).
    this.#fetch = deps.fetch ?? (issuer.caFile ? createIssuerFetch(issuer.caFile) : globalThis.fetch);
    this.#onFetch = deps.onFetch;
    this.#onKeysRemoved = deps.onKeysRemoved;
    this.#remote = undefined;
    this.#loaded = false;
    this.#loading = undefined;
    this.#lastFailureAtMs = Number.NEGATIVE_INFINITY;
    this.#bypassFailureCooldown = false;
    this.#keyFingerprints = new Set();
    this.#keysRemoved = false;
    this.#timer = undefined;
    this.#stopController = new AbortController();
    this.#running = false;
    this.#fetchJwks = (url, options) => this.#fetchKeySet(url, options);
    this.resolveKey = (header, token) => this.#resolveKey(header, token);
  }

  /** True once keys have been fetched at least once. */
  isLoaded(): boolean {
    return this.#loaded;
  }

  /** Loads the keys now and then refreshes them every `jwksRefreshSec` on an unref'd timer. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    if (this.#stopController.signal.aborted) this.#stopController = new AbortController();
    void this.#refreshAndReschedule();
  }

  /** Stops the refresh timer and aborts fetches in flight. Known keys stay usable. */
  stop(): void {
    this.#running = false;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#stopController.abort();
  }

  /** Fetches the key set now, bypassing every cooldown; resolves false when it failed. Never rejects. */
  refresh(): Promise<boolean> {
    return this.#load(true);
  }

  async #refreshAndReschedule(): Promise<void> {
    const ok = await this.#load(true);
    if (!this.#running) return;
    this.#timer = setTimeout(() => void this.#refreshAndReschedule(), ok ? this.#refreshMs : this.#retryMs);
    this.#timer.unref();
  }

  async #resolveKey(header: CompactJWSHeaderParameters, token: FlattenedJWSInput): Promise<ResolvedKey> {
    if (!this.#loaded && !(await this.#load(false))) {
      // Fail closed: without keys nothing verifies, and the caller should see a dependency problem, not a bad token.
      throw new ServiceError('JWKS_UNAVAILABLE', `no keys loaded yet for ${this.issuer}`);
    }
    try {
      return await this.#remote!(header, token);
    } catch (err) {
      // jose only fetches here for a kid it does not know; the keys it knows are intact.
      if (err instanceof JwksFetchError) {
        throw new ServiceError(
          'JWT_KEY_UNKNOWN',
          'no key for this kid, and the JWKS could not be refetched',
          {
            cause: err,
          },
        );
      }
      throw err;
    } finally {
      this.#reportRemovedKeys();
    }
  }

  #load(bypassFailureCooldown: boolean): Promise<boolean> {
    if (this.#loading !== undefined) return this.#loading;
    if (!bypassFailureCooldown && this.#isCoolingDownAfterFailure()) return Promise.resolve(false);
    this.#loading = this.#reload().finally(() => {
      this.#loading = undefined;
    });
    return this.#loading;
  }

  async #reload(): Promise<boolean> {
    try {
      const remote = this.#remote ?? (await this.#createRemote());
      this.#bypassFailureCooldown = true;
      await remote.reload();
      return true;
    } catch {
      // Already counted and timestamped where it happened.
      return false;
    } finally {
      // Unused when jose joined a fetch already in flight; do not let it leak to the next one.
      this.#bypassFailureCooldown = false;
      this.#reportRemovedKeys();
    }
  }

  async #createRemote(): Promise<RemoteJWKSet> {
    let url: URL;
    if (this.#configuredJwksUrl !== undefined) {
      url = new URL(this.#configuredJwksUrl);
    } else {
      try {
        const signal = AbortSignal.any([AbortSignal.timeout(this.#timeoutMs), this.#stopController.signal]);
        url = await discoverJwksUrl(this.issuer, this.#discoveryUrl, this.#fetch, signal);
      } catch (err) {
        this.#recordFailure();
        throw err;
      }
    }
    this.#remote = createRemoteJWKSet(url, {
      timeoutDuration: this.#timeoutMs,
      cooldownDuration: this.#cooldownMs,
      cacheMaxAge: Number.POSITIVE_INFINITY,
      [customFetch]: this.#fetchJwks,
    });
    return this.#remote;
  }

  // jose's fetch hook: the one place every JWKS request passes through, so it
  // counts fetches, applies the failure cooldown and checks the body before
  // jose swaps it in.
  async #fetchKeySet(url: string, options: Parameters<FetchImplementation>[1]): Promise<Response> {
    const bypass = this.#bypassFailureCooldown;
    this.#bypassFailureCooldown = false;
    if (!bypass && this.#isCoolingDownAfterFailure()) {
      throw new JwksFetchError('JWKS fetch skipped: the last attempt failed within the cooldown');
    }
    let text: string;
    let fingerprints: Set<string>;
    try {
      const response = await this.#fetch(url, {
        ...options,
        signal: AbortSignal.any([options.signal, this.#stopController.signal]),
      });
      if (response.status !== 200) {
        await response.body?.cancel();
        throw new Error(`expected HTTP 200, got ${response.status}`);
      }
      text = await response.text();
      if (text.length > MAX_JWKS_BYTES) throw new Error('JWKS response too large');
      fingerprints = fingerprintKeys(JSON.parse(text));
    } catch (cause) {
      this.#recordFailure();
      throw new JwksFetchError(`JWKS fetch failed for ${this.issuer}`, { cause });
    }
    if (this.#loaded) {
      for (const fingerprint of this.#keyFingerprints) {
        if (!fingerprints.has(fingerprint)) this.#keysRemoved = true;
      }
    }
    this.#keyFingerprints = fingerprints;
    this.#loaded = true;
    this.#onFetch?.(this.issuer, 'ok');
    return new Response(text, { status: 200, headers: { 'content-type': 'application/json' } });
  }

  #recordFailure(): void {
    this.#lastFailureAtMs = performance.now();
    this.#onFetch?.(this.issuer, 'error');
  }

  #isCoolingDownAfterFailure(): boolean {
    return performance.now() - this.#lastFailureAtMs < this.#cooldownMs;
  }

  // Runs once jose has applied the new set, so listeners that drop state
  // derived from old keys cannot race the swap.
  #reportRemovedKeys(): void {
    if (!this.#keysRemoved) return;
    this.#keysRemoved = false;
    this.#onKeysRemoved?.(this.issuer);
  }
}

/** Creates one issuer's key set; nothing is fetched until start(), refresh() or the first key lookup. */
export function createIssuerKeySet(issuer: IssuerConfig, jwt: JwtConfig, deps?: KeySetDeps): IssuerKeySet {
  return new IssuerKeySet(issuer, jwt, deps);
}

// The JWKS must be `{"keys": [objects]}` (RFC 7517 §5); checked here so a
// malformed answer counts as a failed fetch and never replaces a good set.
function fingerprintKeys(jwks: unknown): Set<string> {
  if (typeof jwks !== 'object' || jwks === null || !Array.isArray((jwks as { keys?: unknown }).keys)) {
    throw new Error('expected a JSON Web Key Set: {"keys": [...]}');
  }
  const fingerprints = new Set<string>();
  for (const key of (jwks as { keys: unknown[] }).keys) {
    if (typeof key !== 'object' || key === null || Array.isArray(key))
      throw new Error('expected JWKS keys to be objects');
    fingerprints.add(JSON.stringify(key));
  }
  return fingerprints;
}
