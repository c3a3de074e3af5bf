/**
 * Overload shedding: a bound on work in flight. Above it, new work is refused at once rather
 * than queued, so an overloaded process answers fast, explicit refusals (the ext_authz server
 * an RPC error Envoy turns into its `status_on_error`, the REST process 503 + Retry-After)
 * instead of building a backlog that makes every answer late. Used by the authz gRPC server
 * and the REST server; the decision itself is untouched.
 */
export class InFlightLimit {
  /** Most units of work in flight at once; 0 means no limit. */
  readonly max: number;
  private active = 0;

  constructor(max: number) {
    if (!Number.isInteger(max) || max < 0)
      throw new RangeError(`in-flight limit: expected an integer >= 0, got ${max}`);
    this.max = max;
  }

  /** Work in flight now. */
  get inFlight(): number {
    return this.active;
  }

  /**
   * Takes a slot when one is free and says so; on true the caller owes exactly one `release()`.
   * On false nothing was taken: refuse the work.
   */
  tryAcquire(): boolean {
    if (this.max !== 0 && this.active >= this.max) return false;
    this.active++;
    return true;
  }

  release(): void {
    // Never below zero, so a double release cannot open room beyond the limit later.
    if (this.active > 0) this.active--;
  }
}

/**
 * True when a call's deadline (grpc-js: a Date, or a number of ms since the epoch, Infinity for
 * none) has already passed at `nowMs`: its caller has stopped waiting, so any work is wasted.
 */
export function isPastDeadline(deadline: Date | number, nowMs: number): boolean {
  const at = deadline instanceof Date ? deadline.getTime() : deadline;
  return Number.isFinite(at) && at <= nowMs;
}
