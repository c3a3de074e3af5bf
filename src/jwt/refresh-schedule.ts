/**
 * When to fetch an issuer's JWKS next (issue 11). Pure: the caller passes the
 * outcome of the last fetch and gets a delay back.
 */

/** First retry after a failed fetch; doubles per consecutive failure. */
export const RETRY_BASE_MS = 1000;
/** The backoff never waits longer than this (nor longer than the refresh interval). */
export const RETRY_MAX_MS = 30_000;
/** A `max-age` never makes us refresh faster than this, whatever the floor. */
export const MIN_REFRESH_MS = 1000;

export interface ScheduleInput {
  readonly ok: boolean;
  readonly consecutiveFailures: number;
  /** `Cache-Control: max-age` of the last good answer, when it had one. */
  readonly maxAgeSec: number | undefined;
  /** `jwt.jwksRefreshSec` in ms: the longest a withdrawn key stays trusted while the IdP answers. */
  readonly refreshMs: number;
  /** `jwt.jwksCooldownSec` in ms: the floor between fetches. */
  readonly floorMs: number;
}

/**
 * The delay before the next background fetch. After a success: the refresh
 * interval, shortened (never lengthened) by the answer's max-age, and never
 * below the floor. After a failure: 1 s doubling per failure, capped at
 * min(30 s, refresh interval).
 */
export function nextRefreshDelayMs(input: ScheduleInput): number {
  if (!input.ok) {
    const cap = Math.min(RETRY_MAX_MS, input.refreshMs);
    const exponent = Math.min(Math.max(input.consecutiveFailures - 1, 0), 30);
    return Math.min(cap, RETRY_BASE_MS * 2 ** exponent);
  }
  if (input.maxAgeSec === undefined) return input.refreshMs;
  const maxAgeMs = input.maxAgeSec * 1000;
  return Math.min(input.refreshMs, Math.max(maxAgeMs, input.floorMs, MIN_REFRESH_MS));
}

/**
 * The `max-age` directive of a Cache-Control header in seconds, or undefined
 * when absent or unusable. `no-store`/`no-cache` carry no lifetime, so they
 * leave the configured interval in force rather than forcing a fetch per request.
 */
export function parseMaxAgeSec(cacheControl: string | null): number | undefined {
  if (cacheControl === null) return undefined;
  for (const directive of cacheControl.split(',')) {
    const [name, value] = directive.trim().split('=', 2);
    if (name?.toLowerCase() !== 'max-age' || value === undefined) continue;
    const unquoted = value.replace(/^"(.*)"$/, '$1');
    if (!/^\d{1,10}$/.test(unquoted)) return undefined;
    return Number(unquoted);
  }
  return undefined;
}
