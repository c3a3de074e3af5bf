import { join } from 'node:path';
import {
  type CheckMatrix,
  type CheckPoint,
  loadCheck,
  loadgenNote,
  measureCheckMatrix,
  saturationRps,
  warmUp,
} from '../harness/check-load.ts';
import { assertVerdicts } from '../harness/check-probe.ts';
import { type BenchContext, WORKLOAD_LABEL, WORKLOADS, type Workload } from '../harness/context.ts';
import { FLOOR_LABEL, type Floor, type FloorServer, startFloor } from '../harness/floor-servers.ts';
import { readGcTotals } from '../harness/gc-totals.ts';
import type { LoadResult } from '../harness/load-result.ts';
import { priorityNote } from '../harness/processes.ts';
import type { BenchPart, PartResult, TargetVerdict } from '../harness/results.ts';
import { startTollgateAuthz } from '../harness/tollgate-authz.ts';
import { errorsCell, ms, rateLabel, rps, spreadCell, table } from '../report/markdown.ts';

/**
 * Part 1: `tollgate authz` alone, driven over gRPC at rising fixed rates and at
 * saturation, for a cached token, a fresh token per request and invalid tokens. Beside it, in
 * the same runs of the cached workload, three servers that do no work (floor-servers.ts): what
 * the machine and the generator show (grpc-go), and what Node's gRPC and HTTP/2 stacks show
 * before any of Tollgate's code runs, so Tollgate's tail is read against theirs.
 */

interface CheckIsolationData {
  readonly matrix: CheckMatrix;
  /** Share of verified-token cache lookups that missed during a fresh-token probe run. */
  readonly freshCacheMissRatio: number;
  readonly profiles: readonly string[];
}

const SYSTEM = 'tollgate';
const TARGET_RATE = 5000;
const TARGET_P99_MS = 1;
/** Issue #14, target 1: GC at most 1% of wall time at 5,000/s; p99 at most 3× p50 at these rates. */
const TARGET_GC_SHARE = 0.01;
const TARGET_TAIL_RATIO = 3;
const TAIL_RATES = [1000, 5000];
const FLOORS: readonly Floor[] = ['grpc-go', 'grpc-js', 'http2'];

function pct(share: number): string {
  return Number.isFinite(share) ? `${(share * 100).toFixed(1)}%` : '–';
}

function pointAt(points: readonly CheckPoint[] | undefined, rate: number | null): CheckPoint | undefined {
  return points?.find((p) => p.rate === rate);
}

function tailRatio(m: LoadResult): string {
  return `${(m.p99Ms / m.p50Ms).toFixed(1)}×`;
}

/** The floors' medians at a rate, for a verdict's measured text: what no work at all shows. */
function floorsNote(matrix: CheckMatrix, rate: number, show: (m: LoadResult) => string): string {
  const cells = FLOORS.flatMap((kind) => {
    const m = pointAt(matrix[kind]?.cached, rate)?.median;
    return m ? [`${kind} ${show(m)}`] : [];
  });
  return cells.length === 0 ? '' : `; servers doing no work, same runs: ${cells.join(', ')}`;
}

function gcPausesCell(runs: readonly LoadResult[]): string {
  const over1 = runs.map((r) => r.gcPausesOver1Ms ?? Number.NaN);
  const over10 = runs.map((r) => r.gcPausesOver10Ms ?? Number.NaN);
  if (!over1.some(Number.isFinite)) return '–';
  const whole = (n: number) => (Number.isFinite(n) ? String(Math.round(n)) : '–');
  return `${spreadCell(over1, whole)} · ${spreadCell(over10, whole)}`;
}

async function run(ctx: BenchContext): Promise<PartResult> {
  const startedAt = new Date();
  const fx = await ctx.fixtures();
  const profileDir = join(ctx.runDir, 'profiles-check');
  const tollgate = await startTollgateAuthz({
    name: 'tollgate-check',
    dir: ctx.runDir,
    issuerUrl: fx.tokens.issuerUrl,
    aclFile: fx.tollgateAclFile,
    cpu: ctx.pinning.server,
    nodeArgs: ctx.profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [],
  });
  const target = {
    name: SYSTEM,
    grpcTarget: tollgate.grpcTarget,
    pid: tollgate.proc.pid,
    // prom-client's GC histogram (from perf_hooks), every kind summed.
    gc: () => readGcTotals(tollgate.metricsUrl),
  };
  const floors: FloorServer[] = [];
  let data: CheckIsolationData;
  try {
    for (const kind of FLOORS) floors.push(await startFloor(ctx, kind));
    const floorTargets = floors.map((floor) => ({
      name: floor.kind,
      grpcTarget: floor.grpcTarget,
      pid: floor.proc.pid,
      ...(floor.metricsUrl === null ? {} : { gc: () => readGcTotals(floor.metricsUrl!) }),
      workloads: ['cached'] as const,
      rates: TAIL_RATES,
    }));
    await assertVerdicts(
      'tollgate cached',
      target.grpcTarget,
      fx.checkPools.cached.jsonFileFor(target.grpcTarget),
      true,
    );
    await assertVerdicts(
      'tollgate fresh',
      target.grpcTarget,
      fx.checkPools.fresh.jsonFileFor(target.grpcTarget),
      true,
    );
    await assertVerdicts(
      'tollgate invalid',
      target.grpcTarget,
      fx.checkPools.invalid.jsonFileFor(target.grpcTarget),
      false,
    );
    ctx.log('part check: warming up');
    await warmUp(ctx, target, WORKLOADS);
    for (const floor of floorTargets) await warmUp(ctx, floor, ['cached']);

    // The fresh pool must really miss the verified-token cache, or (b) would measure (a).
    const hits0 = await tollgate.counter('tollgate_jwt_cache_requests_total', 'result="hit"');
    const misses0 = await tollgate.counter('tollgate_jwt_cache_requests_total', 'result="miss"');
    await loadCheck(ctx, target, 'fresh', { rps: 1000, durationSec: 2, concurrency: 4 });
    const hits = (await tollgate.counter('tollgate_jwt_cache_requests_total', 'result="hit"')) - hits0;
    const misses = (await tollgate.counter('tollgate_jwt_cache_requests_total', 'result="miss"')) - misses0;

    ctx.log('part check: measuring');
    const matrix = await measureCheckMatrix(ctx, [target, ...floorTargets], WORKLOADS);
    data = { matrix, freshCacheMissRatio: misses / Math.max(1, hits + misses), profiles: [] };
  } finally {
    await Promise.all([tollgate.proc.stop(), ...floors.map((floor) => floor.proc.stop())]);
  }
  if (ctx.profile) data = { ...data, profiles: [profileDir] };

  const point = pointAt(data.matrix[SYSTEM]?.cached, TARGET_RATE);
  const at5k = point?.median;
  const saturation = saturationRps(data.matrix, SYSTEM, 'cached');
  const targets: TargetVerdict[] = [
    {
      target: `Cached-token Check: p99 under ${TARGET_P99_MS} ms at ${TARGET_RATE.toLocaleString('en-US')} requests/s`,
      measured: at5k
        ? `p99 ${ms(at5k.p99Ms)} ms at ${rps(at5k.rps)} rps (median of ${point?.runs.length} runs;` +
          ` saturation ${rps(saturation)} rps)` +
          floorsNote(data.matrix, TARGET_RATE, (m) => `p99 ${ms(m.p99Ms)} ms`)
        : point
          ? `over capacity: saturation ${rps(saturation)} rps is below ${rps(TARGET_RATE)}`
          : 'rate not in this run',
      met: at5k ? at5k.p99Ms < TARGET_P99_MS && at5k.errors === 0 : point ? false : null,
    },
    {
      target: `Cached-token Check: GC at most ${TARGET_GC_SHARE * 100}% of wall time at ${TARGET_RATE.toLocaleString('en-US')} requests/s`,
      measured:
        at5k?.gcShare !== undefined
          ? `${pct(at5k.gcShare)} (runs ${point!.runs.map((r) => pct(r.gcShare ?? Number.NaN)).join(', ')})`
          : at5k
            ? 'GC time not read'
            : point
              ? `over capacity: saturation ${rps(saturation)} rps is below ${rps(TARGET_RATE)}`
              : 'rate not in this run',
      met: at5k
        ? at5k.gcShare !== undefined
          ? at5k.gcShare <= TARGET_GC_SHARE && at5k.errors === 0
          : null
        : point
          ? false
          : null,
    },
    ...TAIL_RATES.map((rate): TargetVerdict => {
      const p = pointAt(data.matrix[SYSTEM]?.cached, rate);
      const m = p?.median;
      return {
        target: `Cached-token Check: p99 at most ${TARGET_TAIL_RATIO}× p50 at ${rate.toLocaleString('en-US')} requests/s`,
        measured: m
          ? `p99 ${ms(m.p99Ms)} ms ÷ p50 ${ms(m.p50Ms)} ms = ${tailRatio(m)} (medians of ${p!.runs.length} runs)` +
            floorsNote(data.matrix, rate, tailRatio)
          : p
            ? 'over capacity'
            : 'rate not in this run',
        met: m ? m.p99Ms <= TARGET_TAIL_RATIO * m.p50Ms && m.errors === 0 : p ? false : null,
      };
    }),
  ];
  return {
    id: checkIsolation.id,
    title: checkIsolation.title,
    startedAt: startedAt.toISOString(),
    durationSec: (Date.now() - startedAt.getTime()) / 1000,
    method: [
      loadgenNote(ctx),
      `${ctx.settings.durationSec} s per run, ${ctx.settings.repeats} runs per point: min / median / max shown, a point with errors in any run is failed; ` +
        'saturation first, then the fixed rates up to it: a rate above the saturation throughput of ' +
        'the same repeat is not run (over capacity). After every run the server must go idle.',
      ctx.pinning.server === null
        ? 'Not pinned (taskset missing or one CPU).'
        : `Tollgate pinned to CPU ${ctx.pinning.server}, the load generator to CPU ${ctx.pinning.loadgen} (taskset -c). ${priorityNote()}`,
      'GC share of wall time per run: the growth of Tollgate’s tollgate_nodejs_gc_duration_seconds_sum ' +
        '(prom-client, from perf_hooks GC entries, every kind) from before the run to when the server is idle ' +
        'after it, over the run’s duration; GC pauses: how many of that histogram’s entries in the run were ' +
        'above 1 ms and above 10 ms. p99 ÷ p50 from the medians of the repeats.',
      `Floors, in the same runs of the cached workload (alternated with Tollgate, same pinning, same ` +
        `requests, at ${TAIL_RATES.map((r) => `${r.toLocaleString('en-US')}/s`).join(' and ')} and saturation): ` +
        'three servers that answer every Check allow and do nothing else (bench/harness/floor-servers.ts). ' +
        'grpc-go (grpc-load -serve) is what this machine and this load generator show; grpc-js (the library ' +
        'Tollgate serves with, request bytes not decoded, a pre-encoded answer) and bare node:http2 (no gRPC ' +
        'library) are what a Node server shows before any of Tollgate’s code runs; both Node floors run ' +
        'with Tollgate’s shipped Node flags.',
      `Fresh-token pool: ${ctx.settings.tokenPoolSize} distinct RS256 tokens round robin, over the ` +
        `10,000-entry cache: ${(data.freshCacheMissRatio * 100).toFixed(1)}% cache misses measured.`,
    ],
    data,
    targets,
  };
}

function render(result: PartResult): string {
  const data = result.data as CheckIsolationData;
  const sections: string[] = [];
  for (const workload of WORKLOADS) {
    const points = data.matrix[SYSTEM]?.[workload as Workload];
    if (!points) continue;
    const rows = points.map((p) => [rateLabel(p.rate), ...pointCells(p)]);
    sections.push(
      `**${WORKLOAD_LABEL[workload as Workload]}**\n\n` +
        table(
          [
            'rate',
            'throughput (rps)',
            'p50 ms',
            'p99 ms',
            'p99.9 ms',
            'p99 ÷ p50',
            'GC % of wall time',
            'GC pauses > 1 ms · > 10 ms',
            'errors',
          ],
          rows,
        ),
    );
    if (workload === 'cached') sections.push(renderFloors(data.matrix));
  }
  return sections.join('\n\n');
}

/** A point's cells after its rate: throughput, p50, p99, p99.9, p99 ÷ p50, GC, pauses, errors. */
function pointCells(p: CheckPoint): string[] {
  if (p.median === null) return ['over capacity', '', '', '', '', '', '', ''];
  const spread = (figure: (r: LoadResult) => number, format: (value: number) => string) =>
    spreadCell(p.runs.map(figure), format);
  return [
    spread((r) => r.rps, rps),
    spread((r) => r.p50Ms, ms),
    spread((r) => r.p99Ms, ms),
    spread((r) => r.p999Ms, ms),
    (p.median.p99Ms / p.median.p50Ms).toFixed(1),
    spread((r) => r.gcShare ?? Number.NaN, pct),
    gcPausesCell(p.runs),
    errorsCell(p.runs),
  ];
}

function renderFloors(matrix: CheckMatrix): string {
  const rows = FLOORS.flatMap((kind) =>
    (matrix[kind]?.cached ?? []).map((p) => [kind, rateLabel(p.rate), ...pointCells(p)]),
  );
  if (rows.length === 0) return '';
  return (
    '**the same cached Checks to servers that do no work** (alternated with the runs above)\n\n' +
    FLOORS.map((kind) => `- \`${kind}\`: ${FLOOR_LABEL[kind]}`).join('\n') +
    '\n\n' +
    table(
      [
        'server',
        'rate',
        'throughput (rps)',
        'p50 ms',
        'p99 ms',
        'p99.9 ms',
        'p99 ÷ p50',
        'GC % of wall time',
        'GC pauses > 1 ms · > 10 ms',
        'errors',
      ],
      rows,
    )
  );
}

export const checkIsolation: BenchPart = {
  id: 'check',
  title: 'Check in isolation (Tollgate over gRPC)',
  needs: ['grpcLoad'],
  run,
  render,
};
