import { join } from 'node:path';
import type { BenchContext, Workload } from './context.ts';
import type { GcTotals } from './gc-totals.ts';
import { runGhz } from './ghz.ts';
import { runGrpcLoad } from './grpc-load.ts';
import { type LoadResult, median, medianOf } from './load-result.ts';
import { waitForIdle } from './processes.ts';

/**
 * The Check load matrix shared by parts 1 and 2. For each repeat and workload: every system's
 * saturation first, then the fixed rates in rising order, each run once per system. The
 * systems' order flips from one run to the next (A B, B A, ...), so a drift in the machine's
 * speed lands on both alike. A fixed rate above what a system just sustained at saturation is
 * not run for it (recorded as over capacity): an open-loop run past capacity only measures
 * how a backlog grows, and leaves the server chewing through it long after. After every run
 * the server must go idle before the next starts.
 */

export interface CheckTarget {
  readonly name: string;
  readonly grpcTarget: string;
  /** The server's pid, to wait for it to go idle between runs. */
  readonly pid: number;
  /** Garbage collection so far, where the server exports it (Tollgate and the Node floors). */
  readonly gc?: () => Promise<GcTotals>;
  /** Only these workloads and fixed rates (saturation always runs); default: all of the part's. */
  readonly workloads?: readonly Workload[];
  readonly rates?: readonly number[];
}

function runsWorkload(target: CheckTarget, workload: Workload): boolean {
  return target.workloads === undefined || target.workloads.includes(workload);
}

function runsRate(target: CheckTarget, rate: number | null, rates: readonly number[]): boolean {
  return rate === null || (target.rates ?? rates).includes(rate);
}

export interface CheckPoint {
  /** Requests per second asked for; null: saturation. */
  readonly rate: number | null;
  /** Median of the runs made; null when every repeat found the rate over capacity. */
  readonly median: LoadResult | null;
  readonly runs: readonly LoadResult[];
  /** Repeats in which the rate was above the system's saturation throughput, so not run. */
  readonly overCapacity: number;
}

/** system -> workload -> points in rate order, saturation last. */
export type CheckMatrix = Record<string, Record<string, CheckPoint[]>>;

/** How the Check load was generated, for the parts' method notes. */
export function loadgenNote(ctx: BenchContext): string {
  const how =
    ctx.settings.loadgen === 'ghz'
      ? 'ghz at fixed rates (open loop: --rps --async)'
      : 'grpc-load (bench/loadgen: requests encoded once; open loop at fixed rates, each latency ' +
        'counted from when the request was due; its own send lag is in the results JSON per run)';
  return (
    `${how}; saturation: closed loop, ${ctx.settings.saturationConcurrency} calls in flight; one HTTP/2 ` +
    'connection, as an Envoy worker uses.'
  );
}

/** One load run of a workload against a target, continuing the target's walk through the pool. */
export async function loadCheck(
  ctx: BenchContext,
  target: CheckTarget,
  workload: Workload,
  run: { rps: number | null; durationSec: number; concurrency: number },
): Promise<LoadResult> {
  const pool = (await ctx.fixtures()).checkPools[workload];
  const gcBefore = await target.gc?.();
  let result: LoadResult;
  if (ctx.settings.loadgen === 'ghz') {
    result = await runGhz({
      ...run,
      ghz: ctx.tools.ghz,
      target: target.grpcTarget,
      dataFile: pool.jsonFileFor(target.grpcTarget),
      cpu: ctx.pinning.loadgen,
      outFile: join(ctx.runDir, `ghz-${target.name}.json`),
    });
  } else {
    const r = await runGrpcLoad({
      ...run,
      bin: ctx.tools.grpcLoad,
      target: target.grpcTarget,
      requestsFile: pool.binaryFile,
      offset: pool.positionOf(target.grpcTarget),
      cpu: ctx.pinning.loadgen,
    });
    // Every answer must be the verdict the workload expects, or the run measured something else.
    const wrong = workload === 'invalid' ? r.allows : r.denies;
    if (wrong > 0) ctx.log(`  WARNING: ${target.name} ${workload}: ${wrong} answers with the wrong verdict`);
    result = r;
  }
  pool.advance(target.grpcTarget, result.requests + result.errors);
  const waitedMs = await waitForIdle(target.pid);
  if (waitedMs > 2000) ctx.log(`  (${target.name} took ${(waitedMs / 1000).toFixed(1)} s to go idle)`);
  if (gcBefore !== undefined && target.gc) {
    // Read once the server is idle, so the collections the run caused are all counted (GC
    // entries reach the metric asynchronously), over the run's own duration.
    const gcAfter = await target.gc();
    const runSec = result.rps > 0 ? result.requests / result.rps : run.durationSec;
    result = {
      ...result,
      gcShare: (gcAfter.seconds - gcBefore.seconds) / runSec,
      gcPausesOver1Ms: gcAfter.over1Ms - gcBefore.over1Ms,
      gcPausesOver10Ms: gcAfter.over10Ms - gcBefore.over10Ms,
    };
  }
  return result;
}

/** Unmeasured load: a saturation run per workload, so JIT and caches are warm for every one. */
export async function warmUp(ctx: BenchContext, target: CheckTarget, workloads: readonly Workload[]) {
  for (const workload of workloads) {
    await loadCheck(ctx, target, workload, {
      rps: null,
      durationSec: Math.max(1, Math.round(ctx.settings.warmupSec / workloads.length)),
      concurrency: ctx.settings.saturationConcurrency,
    });
  }
}

export async function measureCheckMatrix(
  ctx: BenchContext,
  targets: readonly CheckTarget[],
  workloads: readonly Workload[],
): Promise<CheckMatrix> {
  const { settings } = ctx;
  const rates: (number | null)[] = [null, ...settings.checkRates];
  const runs = new Map<string, LoadResult[]>();
  const skipped = new Map<string, number>();
  const key = (system: string, workload: string, rate: number | null) => `${system}/${workload}/${rate}`;
  let turn = 0;
  for (let repeat = 0; repeat < settings.repeats; repeat++) {
    for (const workload of workloads) {
      const capacity = new Map<string, number>();
      for (const rate of rates) {
        const order = turn++ % 2 === 0 ? targets : [...targets].reverse();
        for (const target of order) {
          if (!runsWorkload(target, workload) || !runsRate(target, rate, settings.checkRates)) continue;
          const k = key(target.name, workload, rate);
          if (rate !== null && rate > (capacity.get(target.name) ?? Number.POSITIVE_INFINITY)) {
            skipped.set(k, (skipped.get(k) ?? 0) + 1);
            continue;
          }
          const result = await loadCheck(ctx, target, workload, {
            rps: rate,
            durationSec: settings.durationSec,
            concurrency: settings.saturationConcurrency,
          });
          if (rate === null) capacity.set(target.name, result.rps);
          ctx.log(
            `  ${target.name} ${workload} ${rate ?? 'max'} rps (run ${repeat + 1}/${settings.repeats}): ` +
              `${result.rps.toFixed(0)} rps, p50 ${result.p50Ms.toFixed(3)} ms, p99 ${result.p99Ms.toFixed(3)} ms` +
              (result.gcShare !== undefined
                ? `, GC ${(result.gcShare * 100).toFixed(1)}% of wall time, ` +
                  `${result.gcPausesOver1Ms} pauses > 1 ms, ${result.gcPausesOver10Ms} > 10 ms`
                : '') +
              (result.errors > 0 ? `, ${result.errors} errors` : '') +
              (result.sendLagP99Ms !== undefined
                ? ` (send lag p99 ${result.sendLagP99Ms.toFixed(3)} ms)`
                : ''),
          );
          runs.set(k, [...(runs.get(k) ?? []), result]);
        }
      }
    }
  }
  const matrix: CheckMatrix = {};
  for (const target of targets) {
    const byWorkload: Record<string, CheckPoint[]> = {};
    for (const workload of workloads) {
      if (!runsWorkload(target, workload)) continue;
      const rates = settings.checkRates.filter((rate) => runsRate(target, rate, settings.checkRates));
      // Table order: fixed rates rising, saturation last.
      byWorkload[workload] = [...rates, null].map((rate) => {
        const list = runs.get(key(target.name, workload, rate)) ?? [];
        const overCapacity = skipped.get(key(target.name, workload, rate)) ?? 0;
        // A rate counts as over capacity when most repeats found it so.
        const median = list.length > overCapacity ? medianOf(list) : null;
        return { rate, median, runs: list, overCapacity };
      });
    }
    matrix[target.name] = byWorkload;
  }
  return matrix;
}

/** The median saturation throughput of a system on a workload (NaN when not measured). */
export function saturationRps(matrix: CheckMatrix, system: string, workload: Workload): number {
  const point = matrix[system]?.[workload]?.find((p) => p.rate === null);
  return point?.median?.rps ?? median(point?.runs.map((r) => r.rps) ?? []);
}
