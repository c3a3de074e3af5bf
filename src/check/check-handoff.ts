import { randomUUID } from 'node:crypto';
import type { KnownRoute } from '../routes/route-map.ts';
import type { CheckOutcome, CheckRequest } from './check.ts';

/**
 * The gate's passed check, handed to the REST process in the same process (`tollgate serve`),
 * so the REST process need not match the route, extract the bearer token, hash and look it up
 * and walk the ACLs a second time for the request Envoy just had checked.
 *
 * How: the gate stores the outcome under a fresh random id (a v4 UUID: 122 bits from the CSPRNG)
 * and asks Envoy to set `x-tollgate-check: <id>` on the request it forwards (overwriting any
 * client copy; Envoy's header_mutation also drops one before ext_authz). The REST process takes
 * the entry by that id, once, and uses it only when everything the check depended on is what
 * the REST process sees itself: method, raw target, the Authorization values, the client
 * address, the client certificate's thumbprint, and the same compiled ACLs; and only while the
 * entry is young and the token unexpired. Anything else (no header, an unknown, used, stale or
 * mismatched id, a `tollgate rest` running on its own with no gate beside it) is a miss, and
 * the REST process runs the whole check as before: a miss costs the old price, never an allow.
 * The id is never logged and never returned to a client.
 */

export const CHECK_HANDOFF_HEADER = 'x-tollgate-check';

/** What the REST process sees of a request, compared field by field with what the gate checked. */
export interface HandoffRequest {
  readonly method: string;
  readonly path: string;
  readonly authorization: readonly string[] | undefined;
  readonly host: string | undefined;
  readonly clientCertThumbprint: string | undefined;
}

export interface HandedOff {
  /** The route the gate matched (with its parameters): the resource that was authorized. */
  readonly route: KnownRoute;
  readonly outcome: CheckOutcome;
}

interface Entry {
  readonly request: CheckRequest;
  readonly route: KnownRoute;
  readonly outcome: CheckOutcome;
  readonly acls: unknown;
  readonly storedAtMs: number;
}

export interface CheckHandoffOptions {
  /** Entries kept at most; when full (after dropping stale ones), nothing is stored. */
  readonly maxEntries: number;
  /** How long an entry may wait for its request to reach the REST process. */
  readonly ttlMs: number;
  /** The ACLs in force now; an entry is used only while they are the very same object. */
  readonly acls: () => unknown;
  readonly now?: () => number;
}

function sameAuthorization(
  checked: CheckRequest['authorization'],
  seen: readonly string[] | undefined,
): boolean {
  // A passed check had exactly one Authorization value (two are refused); so must the request.
  if (seen === undefined || seen.length !== 1) return false;
  const one = typeof checked === 'string' ? checked : checked?.length === 1 ? checked[0] : undefined;
  return one !== undefined && one === seen[0];
}

export class CheckHandoff {
  readonly #options: CheckHandoffOptions;
  readonly #now: () => number;
  /** Insertion order is storage order, so stale entries are always at the front. */
  readonly #entries = new Map<string, Entry>();

  constructor(options: CheckHandoffOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  get size(): number {
    return this.#entries.size;
  }

  /**
   * Stores a passed check of a known route with a verified token; returns the id for the header,
   * or null when there is nothing to hand off (or no room).
   */
  put(request: CheckRequest, outcome: CheckOutcome): string | null {
    const route = request.route;
    if (!route.known || outcome.token === null || outcome.principal === null) return null;
    if (outcome.verdict !== 'allow' && outcome.enforced) return null;
    const now = this.#now();
    this.#dropStale(now);
    if (this.#entries.size >= this.#options.maxEntries) return null;
    const id = randomUUID();
    this.#entries.set(id, { request, route, outcome, acls: this.#options.acls(), storedAtMs: now });
    return id;
  }

  /** The gate's outcome for this request, taken (once), or null: then check it in full. */
  take(id: string | undefined, seen: HandoffRequest): HandedOff | null {
    if (id === undefined) return null;
    const entry = this.#entries.get(id);
    if (entry === undefined) return null;
    this.#entries.delete(id);
    const now = this.#now();
    const { request, outcome } = entry;
    if (now - entry.storedAtMs > this.#options.ttlMs) return null;
    if (outcome.expiresAtMs === null || outcome.expiresAtMs <= now) return null;
    if (entry.acls !== this.#options.acls()) return null;
    if (request.method !== seen.method || request.path !== seen.path) return null;
    if (request.host !== seen.host) return null;
    if (request.clientCertThumbprint !== seen.clientCertThumbprint) return null;
    if (!sameAuthorization(request.authorization, seen.authorization)) return null;
    return { route: entry.route, outcome };
  }

  #dropStale(now: number): void {
    for (const [id, entry] of this.#entries) {
      if (now - entry.storedAtMs <= this.#options.ttlMs) break;
      this.#entries.delete(id);
    }
  }
}
