/**
 * Part 7's bookkeeping: every call of an overloaded run put in exactly one class, so "every
 * answer is a correct decision or an explicit refusal" (issue #14) is a count, not a reading of
 * the logs. The workload is a valid cached token on a route it may use: the only correct
 * decision is allow.
 */

/**
 * gRPC statuses that are an explicit refusal: DeadlineExceeded (Tollgate refused a Check whose
 * deadline had passed, or the client gave up waiting for a stream at its deadline) and
 * Unavailable (shed above authz.maxConcurrentChecks, or a stream refused). Envoy answers both
 * with its status_on_error. LocalOverflow: refused by the load generator itself past its bound
 * on calls in flight, as Envoy's circuit breaker refuses past max_requests (a 503 that never
 * reaches Tollgate). Anything else (Internal, ResourceExhausted, Canceled, ...) is unexplained.
 */
export const EXPLICIT_REFUSALS: ReadonlySet<string> = new Set([
  'DeadlineExceeded',
  'Unavailable',
  'LocalOverflow',
]);

export interface AnswerClasses {
  /** Calls made. */
  readonly calls: number;
  /** The correct decision. */
  readonly allowed: number;
  /** A wrong verdict: a deny for a token and route that must be allowed. */
  readonly wrong: number;
  /** Explicit refusals, by gRPC status name. */
  readonly refused: Readonly<Record<string, number>>;
  /** Any other failure, by gRPC status name: the run cannot meet the target. */
  readonly unexplained: Readonly<Record<string, number>>;
}

/** Sorts a run's answers into classes; the classes add up to `calls`. */
export function classifyAnswers(run: {
  readonly allows: number;
  readonly denies: number;
  readonly errorKinds: Readonly<Record<string, number>>;
}): AnswerClasses {
  const refused: Record<string, number> = {};
  const unexplained: Record<string, number> = {};
  let failed = 0;
  for (const [kind, count] of Object.entries(run.errorKinds)) {
    if (count === 0) continue;
    (EXPLICIT_REFUSALS.has(kind) ? refused : unexplained)[kind] = count;
    failed += count;
  }
  return {
    calls: run.allows + run.denies + failed,
    allowed: run.allows,
    wrong: run.denies,
    refused,
    unexplained,
  };
}

/** True when every call was the correct decision or an explicit refusal. */
export function everyAnswerExplained(classes: AnswerClasses): boolean {
  return classes.wrong === 0 && Object.keys(classes.unexplained).length === 0;
}
