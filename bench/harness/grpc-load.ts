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
}

interface GrpcLoadReport {
  requests: number;
  ok: number;
  errors: number;
  errorKinds: Record<string, number>;
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
}

export interface GrpcLoadResult extends LoadResult {
  readonly allows: number;
  readonly denies: number;
  /** Failed calls by gRPC status name (Unavailable, DeadlineExceeded, ...). */
  readonly errorKinds: Readonly<Record<string, number>>;
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
  };
}
