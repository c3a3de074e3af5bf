import type { LoadResult } from './load-result.ts';
import { runToCompletion } from './processes.ts';

/**
 * bench/loadgen (grpc-load), the default Check load generator: requests encoded once by the
 * benchmark, sent open loop at a fixed rate (latency counted from when each was due) or
 * closed loop at saturation. See bench/loadgen/main.go for why ghz is not the default.
 */

export interface GrpcLoadRun {
  readonly bin: string;
  readonly target: string;
  readonly requestsFile: string;
  readonly offset: number;
  /** null: closed-loop saturation. */
  readonly rps: number | null;
  readonly durationSec: number;
  readonly concurrency: number;
  readonly cpu: string | null;
  /** Deadline of each call (grpc-timeout); default 5 s. */
  readonly timeoutSec?: number;
  /**
   * Open loop: calls in flight at most, a call past it refused by the generator at once
   * (`LocalOverflow`), as Envoy's circuit breaker does on the ext_authz cluster. Unset: no bound.
   */
  readonly maxOutstanding?: number;
  /** Open loop: write every call (due, send lag, latency) to this CSV file, for a tail profile. */
  readonly dumpFile?: string;
}

interface GrpcLoadReport {
  requests: number;
  ok: number;
  errors: number;
  errorKinds: Record<string, number>;
  errorSamples?: Record<string, string>;
  allows: number;
  denies: number;
  elapsedSec: number;
  rps: number;
  p50Us: number;
  p99Us: number;
  p999Us: number;
  maxUs: number;
  sendLagP50Us: number;
  sendLagP99Us: number;
  windowSec: number;
  windowAllows: number;
  errorP50Us: number;
  errorP99Us: number;
  startUnixUs: number;
}

export interface GrpcLoadResult extends LoadResult {
  readonly allows: number;
  readonly denies: number;
  /** Failed calls by gRPC status name (Unavailable, DeadlineExceeded, ...). */
  readonly errorKinds: Readonly<Record<string, number>>;
  /** One error message per status name, as the client saw it (server details or transport words). */
  readonly errorSamples: Readonly<Record<string, string>>;
  /** The sending window (open loop: requests ÷ rate; closed loop: the duration), seconds. */
  readonly windowSec: number;
  /** Allowed answers that arrived within the sending window (not from the backlog after it). */
  readonly windowAllows: number;
  /** Latency of the failed calls from when each was due, ms (NaN when none failed). */
  readonly errorP50Ms: number;
  readonly errorP99Ms: number;
  /** When the measured window started, µs since the epoch (the dump's times count from it). */
  readonly startUnixUs: number;
}

export async function runGrpcLoad(run: GrpcLoadRun): Promise<GrpcLoadResult> {
  const args = [
    '-target',
    run.target,
    '-requests',
    run.requestsFile,
    '-offset',
    String(run.offset),
    '-duration',
    `${run.durationSec}s`,
    '-timeout',
    `${run.timeoutSec ?? 5}s`,
  ];
  if (run.rps === null) args.push('-rps', '0', '-c', String(run.concurrency));
  else args.push('-rps', String(run.rps));
  if (run.maxOutstanding !== undefined) args.push('-max-outstanding', String(run.maxOutstanding));
  if (run.dumpFile !== undefined) args.push('-dump', run.dumpFile);
  const out = await runToCompletion(run.cpu, run.bin, args, (run.durationSec * 3 + 30) * 1000);
  if (out.code !== 0) throw new Error(`grpc-load exited with ${out.code}: ${out.stderr.slice(0, 500)}`);
  const r = JSON.parse(out.stdout) as GrpcLoadReport;
  const ms = (us: number) => (us < 0 ? Number.NaN : us / 1000);
  return {
    targetRps: run.rps,
    rps: r.rps,
    requests: r.ok,
    errors: r.errors,
    p50Ms: ms(r.p50Us),
    p99Ms: ms(r.p99Us),
    p999Ms: ms(r.p999Us),
    maxMs: ms(r.maxUs),
    sendLagP99Ms: ms(r.sendLagP99Us),
    allows: r.allows,
    denies: r.denies,
    errorKinds: r.errorKinds ?? {},
    errorSamples: r.errorSamples ?? {},
    windowSec: r.windowSec,
    windowAllows: r.windowAllows,
    errorP50Ms: ms(r.errorP50Us),
    errorP99Ms: ms(r.errorP99Us),
    startUnixUs: r.startUnixUs,
  };
}
