/**
 * What one load run measured, the same shape whichever generator ran it, and how repeated runs
 * of one point are summarised: min / median / max of each figure, and a point with any run that
 * had errors is failed — its errors are the worst run's, never a median that hides them.
 * Latencies are milliseconds, throughput is completed requests per second.
 */

export interface LoadResult {
  /** Requested rate; null for a closed-loop saturation run. */
  readonly targetRps: number | null;
  /** Requests completed (any answer) per second of the measured window. */
  readonly rps: number;
  readonly requests: number;
  /** Transport failures: timeouts, refused connections, RPC errors, non-2xx/4xx HTTP. */
  readonly errors: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
  readonly maxMs: number;
  /** The generator's own delay from due time to send (p99), where it reports one. */
  readonly sendLagP99Ms?: number;
  /** In a summary of repeats (`medianOf`): how many of the runs had errors. */
  readonly failedRuns?: number;
  /** Share of the run's wall time the server spent in garbage collection, where it was read. */
  readonly gcShare?: number;
  /** Garbage collection pauses of the run longer than 1 ms and than 10 ms, where they were read. */
  readonly gcPausesOver1Ms?: number;
  readonly gcPausesOver10Ms?: number;
}

/** The range of one figure over the repeats of a point. */
export interface Spread {
  readonly min: number;
  readonly median: number;
  readonly max: number;
}

/** Min, median and max of the finite values (NaN each when there are none). */
export function spreadOf(values: readonly number[]): Spread {
  const finite = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (finite.length === 0) return { min: Number.NaN, median: Number.NaN, max: Number.NaN };
  return { min: finite[0]!, median: median(finite), max: finite[finite.length - 1]! };
}

/** Runs of a point that had errors; one is enough to report the point as failed. */
export function countFailedRuns(runs: readonly { readonly errors: number }[]): number {
  return runs.filter((r) => !(r.errors === 0)).length;
}

/** Nearest-rank percentile of ascending `sorted` (q in 0..1). */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

export function median(values: readonly number[]): number {
  const finite = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (finite.length === 0) return Number.NaN;
  const mid = finite.length >> 1;
  return finite.length % 2 === 1 ? finite[mid]! : (finite[mid - 1]! + finite[mid]!) / 2;
}

/** Builds a LoadResult from raw latencies (ms, any order) over a window of `seconds`. */
export function summarize(
  targetRps: number | null,
  latenciesMs: Float64Array,
  errors: number,
  seconds: number,
): LoadResult {
  latenciesMs.sort();
  return {
    targetRps,
    rps: seconds > 0 ? latenciesMs.length / seconds : 0,
    requests: latenciesMs.length,
    errors,
    p50Ms: percentile(latenciesMs, 0.5),
    p99Ms: percentile(latenciesMs, 0.99),
    p999Ms: percentile(latenciesMs, 0.999),
    maxMs: latenciesMs.length > 0 ? latenciesMs[latenciesMs.length - 1]! : Number.NaN,
  };
}

/**
 * The median of each figure across repeats of the same point, except errors: those are the
 * worst run's, and `failedRuns` says how many runs had any, so a failed run is never averaged
 * away by the others.
 */
export function medianOf(runs: readonly LoadResult[]): LoadResult {
  const pick = (f: (r: LoadResult) => number) => median(runs.map(f));
  return {
    targetRps: runs[0]?.targetRps ?? null,
    rps: pick((r) => r.rps),
    requests: pick((r) => r.requests),
    errors: runs.length === 0 ? Number.NaN : Math.max(...runs.map((r) => r.errors)),
    failedRuns: countFailedRuns(runs),
    p50Ms: pick((r) => r.p50Ms),
    p99Ms: pick((r) => r.p99Ms),
    p999Ms: pick((r) => r.p999Ms),
    maxMs: pick((r) => r.maxMs),
    ...(runs.some((r) => r.sendLagP99Ms !== undefined)
      ? { sendLagP99Ms: pick((r) => r.sendLagP99Ms ?? Number.NaN) }
      : {}),
    ...(runs.some((r) => r.gcShare !== undefined) ? { gcShare: pick((r) => r.gcShare ?? Number.NaN) } : {}),
    ...(runs.some((r) => r.gcPausesOver1Ms !== undefined)
      ? {
          gcPausesOver1Ms: pick((r) => r.gcPausesOver1Ms ?? Number.NaN),
          gcPausesOver10Ms: pick((r) => r.gcPausesOver10Ms ?? Number.NaN),
        }
      : {}),
  };
}
