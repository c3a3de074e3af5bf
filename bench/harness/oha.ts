import { type LoadResult, summarize } from './load-result.ts';
import { runToCompletion } from './processes.ts';

/**
 * oha, the HTTP load generator for part 3. `-q R --latency-correction`: requests are due at a
 * fixed rate and each latency is measured from when it was due, not from when a connection was
 * free to send it, so a stall is not hidden by coordinated omission. Bounded: `-n` = R x
 * duration requests, and the process is killed at three times the duration.
 */

export interface OhaRun {
  readonly oha: string;
  readonly url: string;
  readonly headers: readonly string[];
  readonly rps: number;
  readonly durationSec: number;
  readonly connections: number;
  readonly cpu: string | null;
}

interface OhaReport {
  summary: { total: number; requestsPerSec: number; successRate: number; slowest: number };
  latencyPercentiles: Record<string, number | null>;
  statusCodeDistribution: Record<string, number>;
  errorDistribution: Record<string, number>;
}

export async function runOha(
  run: OhaRun,
): Promise<LoadResult & { readonly statuses: Record<string, number> }> {
  const args = [
    '--no-tui',
    '--output-format',
    'json',
    '-q',
    String(run.rps),
    '--latency-correction',
    '-n',
    String(Math.round(run.rps * run.durationSec)),
    '-c',
    String(run.connections),
    '-t',
    '5s',
  ];
  for (const header of run.headers) args.push('-H', header);
  args.push(run.url);
  const result = await runToCompletion(run.cpu, run.oha, args, (run.durationSec * 3 + 30) * 1000);
  if (result.code !== 0) throw new Error(`oha exited with ${result.code}: ${result.stderr.slice(0, 500)}`);
  const report = JSON.parse(result.stdout) as OhaReport;
  const p = report.latencyPercentiles;
  const sec = (key: string) => (typeof p[key] === 'number' ? (p[key] as number) * 1000 : Number.NaN);
  const errors =
    Object.values(report.errorDistribution).reduce((a, b) => a + b, 0) +
    Object.entries(report.statusCodeDistribution)
      .filter(([status]) => status !== '200')
      .reduce((a, [, n]) => a + n, 0);
  const base = summarize(run.rps, new Float64Array(0), errors, 0);
  return {
    ...base,
    rps: report.summary.requestsPerSec,
    requests: Object.values(report.statusCodeDistribution).reduce((a, b) => a + b, 0),
    p50Ms: sec('p50'),
    p99Ms: sec('p99'),
    p999Ms: sec('p99.9'),
    maxMs: report.summary.slowest * 1000,
    statuses: report.statusCodeDistribution,
  };
}
