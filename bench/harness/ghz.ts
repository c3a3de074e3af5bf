import { readFileSync, rmSync } from 'node:fs';
import { AUTH_PROTO_PATH, INCLUDE_DIRS } from './envoy-protos.ts';
import { type LoadResult, summarize } from './load-result.ts';
import { runToCompletion } from './processes.ts';

/**
 * ghz (`--loadgen ghz`), the common gRPC load generator, driving envoy.service.auth.v3.Authorization/Check.
 *
 * Fixed rate: `--rps R --async`: ghz's constant pacer fires at R per second and, with --async,
 * sends each request when it is due without waiting for earlier ones (open loop), so a slow
 * server shows as latency rather than as a quietly lower send rate.
 * Saturation: closed loop, `-c` requests in flight, as fast as the server answers.
 * Both use one HTTP/2 connection, as an Envoy worker thread does towards its authz cluster.
 * The request body is a JSON array of CheckRequests; ghz sends them round robin.
 * Latencies come from ghz's per-request details, so p99.9 is exact rather than bucketed.
 */

const CALL = 'envoy.service.auth.v3.Authorization.Check';

export interface GhzRun {
  readonly ghz: string;
  readonly target: string;
  /** File holding a JSON array of CheckRequest objects. */
  readonly dataFile: string;
  /** Requests per second; null: closed-loop saturation. */
  readonly rps: number | null;
  readonly durationSec: number;
  /** Requests in flight in a saturation run. */
  readonly concurrency: number;
  readonly cpu: string | null;
  readonly outFile: string;
}

interface GhzDetail {
  readonly latency: number;
  readonly error: string;
  readonly status: string;
}

interface GhzReport {
  readonly count: number;
  readonly total: number;
  readonly details: readonly GhzDetail[] | null;
}

export async function runGhz(run: GhzRun): Promise<LoadResult> {
  const args = [
    '--insecure',
    '--proto',
    AUTH_PROTO_PATH,
    '--import-paths',
    INCLUDE_DIRS.join(','),
    '--call',
    CALL,
    '--data-file',
    run.dataFile,
    '--connections',
    '1',
    '--timeout',
    '5s',
    '--format',
    'json',
    '--output',
    run.outFile,
  ];
  if (run.cpu !== null) args.push('--cpus', String(run.cpu.split(',').length));
  if (run.rps === null) {
    args.push('--concurrency', String(run.concurrency), '--duration', `${run.durationSec}s`);
  } else {
    // Bounded in count: R x duration requests; in time by the kill timer below. (Not
    // --max-duration: ghz 0.121 keeps sending until it, whatever --total says.)
    args.push(
      '--rps',
      String(run.rps),
      '--async',
      '--concurrency',
      '4',
      '--total',
      String(Math.round(run.rps * run.durationSec)),
    );
  }
  args.push(run.target);
  const result = await runToCompletion(run.cpu, run.ghz, args, (run.durationSec * 3 + 30) * 1000);
  if (result.code !== 0) {
    throw new Error(`ghz exited with ${result.code}: ${result.stderr.trim().slice(0, 500)}`);
  }
  const report = JSON.parse(readFileSync(run.outFile, 'utf8')) as GhzReport;
  rmSync(run.outFile, { force: true });
  const details = report.details ?? [];
  const latencies = new Float64Array(details.length);
  let errors = 0;
  let n = 0;
  // A duration-bounded saturation run cuts off the calls still in flight when time is up
  // (Unavailable or Canceled); at most `concurrency` of those are not errors.
  let cutOff = run.rps === null ? run.concurrency : 0;
  for (const d of details) {
    if (cutOff > 0 && (d.status === 'Unavailable' || d.status === 'Canceled')) {
      cutOff--;
      continue;
    }
    if (d.error !== '' || d.status !== 'OK') errors++;
    else latencies[n++] = d.latency / 1e6;
  }
  // ghz's total is the wall time from the first request sent to the last answer.
  return summarize(run.rps, latencies.subarray(0, n), errors, report.total / 1e9);
}
