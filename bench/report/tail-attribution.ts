/**
 * Where the slowest calls of an open-loop run spent their time: each call at or above the
 * run's p99 is laid over the server's garbage collections and event-loop stalls
 * (bench/harness/tail-trace.ts) and over the generator's own send lag (grpc-load -dump), and
 * given the first of these that overlaps it: a GC pause of at least 1 ms, else another stall of
 * the server's thread, else a send at least 1 ms late, else none of them (the time went outside
 * what either side records: the kernel, the scheduler, the client's receiving side).
 */

export interface Call {
  /** Due time from the run's start, send lag and latency from the due time, µs. */
  readonly dueUs: number;
  readonly lagUs: number;
  readonly latencyUs: number;
  readonly ok: boolean;
}

export interface Interval {
  /** µs since the epoch. */
  readonly startUs: number;
  readonly durationUs: number;
}

export interface ServerTrace {
  readonly gcs: readonly Interval[];
  readonly stalls: readonly Interval[];
}

export type Cause = 'gc' | 'stall' | 'lag' | 'none';
export const CAUSES: readonly Cause[] = ['gc', 'stall', 'lag', 'none'];

export interface TailAttribution {
  readonly calls: number;
  readonly p50Us: number;
  readonly p99Us: number;
  /** Calls at or above the p99, and how many of them each cause took. */
  readonly slow: number;
  readonly byCause: Readonly<Record<Cause, number>>;
  /** Within the run (first due time to last answer): GC pauses of at least 1 ms, stalls, and their longest, µs. */
  readonly gcPausesOver1Ms: number;
  readonly longestGcUs: number;
  readonly stalls: number;
  readonly longestStallUs: number;
}

const GC_MIN_US = 1000;
const LAG_MIN_US = 1000;

export function parseDump(csv: string): Call[] {
  const calls: Call[] = [];
  for (const line of csv.split('\n').slice(1)) {
    if (line === '') continue;
    const [due, lag, latency, ok] = line.split(',').map(Number);
    calls.push({ dueUs: due!, lagUs: lag!, latencyUs: latency!, ok: ok === 1 });
  }
  return calls;
}

export function parseTrace(text: string): ServerTrace {
  const gcs: Interval[] = [];
  const stalls: Interval[] = [];
  for (const line of text.split('\n')) {
    const [what, start, duration] = line.split(',');
    const interval = { startUs: Number(start), durationUs: Number(duration) };
    if (what === 'gc') gcs.push(interval);
    else if (what === 'stall') stalls.push(interval);
  }
  return { gcs, stalls };
}

function overlaps(a: Interval, fromUs: number, toUs: number): boolean {
  return a.startUs < toUs && a.startUs + a.durationUs > fromUs;
}

function nearestRank(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export function attributeTail(
  calls: readonly Call[],
  startUnixUs: number,
  trace: ServerTrace | null,
): TailAttribution {
  const ok = calls.filter((c) => c.ok);
  const latencies = ok.map((c) => c.latencyUs).sort((a, b) => a - b);
  const p99Us = nearestRank(latencies, 0.99);
  const runFrom = startUnixUs + (calls[0]?.dueUs ?? 0);
  const runTo = startUnixUs + calls.reduce((m, c) => Math.max(m, c.dueUs + c.latencyUs), 0);
  const inRun = (list: readonly Interval[]) => list.filter((i) => overlaps(i, runFrom, runTo));
  const gcs = inRun(trace?.gcs ?? []);
  const longGcs = gcs.filter((g) => g.durationUs >= GC_MIN_US);
  const stalls = inRun(trace?.stalls ?? []);
  const byCause: Record<Cause, number> = { gc: 0, stall: 0, lag: 0, none: 0 };
  let slow = 0;
  for (const call of ok) {
    if (call.latencyUs < p99Us) continue;
    slow++;
    const from = startUnixUs + call.dueUs;
    const to = from + call.latencyUs;
    if (longGcs.some((g) => overlaps(g, from, to))) byCause.gc++;
    else if (stalls.some((s) => overlaps(s, from, to))) byCause.stall++;
    else if (call.lagUs >= LAG_MIN_US) byCause.lag++;
    else byCause.none++;
  }
  const longest = (list: readonly Interval[]) => list.reduce((m, i) => Math.max(m, i.durationUs), 0);
  return {
    calls: ok.length,
    p50Us: nearestRank(latencies, 0.5),
    p99Us,
    slow,
    byCause,
    gcPausesOver1Ms: longGcs.length,
    longestGcUs: longest(gcs),
    stalls: stalls.length,
    longestStallUs: longest(stalls),
  };
}
