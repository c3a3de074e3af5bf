import { readFileSync } from 'node:fs';
import grpc from '@grpc/grpc-js';
import {
  type AllocationComparison,
  compareCheckAllocation,
  FLOORS,
} from '../harness/allocation-comparison.ts';
import { ALLOCATION_NODE_FLAGS, type AllocationResult, sendChecks } from '../harness/check-allocation.ts';
import type { BenchContext } from '../harness/context.ts';
import { authorizationDefinition } from '../harness/envoy-protos.ts';
import { FLOOR_LABEL } from '../harness/floor-servers.ts';
import { runGrpcLoad } from '../harness/grpc-load.ts';
import { type LoadResult, medianOf } from '../harness/load-result.ts';
import { createPrincipalFixture } from '../harness/principal-fixture.ts';
import { priorityNote, waitForIdle } from '../harness/processes.ts';
import type { BenchPart, PartResult, TargetVerdict } from '../harness/results.ts';
import { startTollgateAuthz } from '../harness/tollgate-authz.ts';
import { formatHeapSummary } from '../report/heap-profile.ts';
import { errorsCell, ms, rateLabel, rps, spreadCell, table } from '../report/markdown.ts';

/**
 * Part 6: what one Check costs in memory, and Checks at scale (issue #14).
 *  (a) Bytes allocated per cached-token Check, over the real gRPC path (check-allocation.ts).
 *  (b) Checks over 10,000 distinct principals, each with its own token and its own ACL rules
 *      (principal-fixture.ts): every principal verified once first, then saturation and the
 *      fixed rates with the principals round robin, so every Check is a cache hit for a
 *      different principal and ACL entry.
 */

const TARGET_BYTES_PER_CHECK = 4096;
const PRINCIPALS = 10000;

interface ScalePoint {
  readonly rate: number | null;
  readonly runs: readonly LoadResult[];
  readonly overCapacity: number;
}

interface CheckScaleData {
  /** Tollgate, the two floors and Tollgate's heap profile, measured side by side. */
  readonly allocation: AllocationComparison;
  readonly principals: number;
  readonly mintSec: number;
  readonly aclRules: number;
  /** From start to /readyz with the principals' ACL file (load and compile included). */
  readonly readySec: number;
  /** Verified-token cache misses during the measured runs, as a share of lookups. */
  readonly cacheMissRatio: number;
  readonly points: readonly ScalePoint[];
}

function jsonRequests(file: string): unknown[] {
  return JSON.parse(readFileSync(file, 'utf8')) as unknown[];
}

/** Tollgate's own bytes per Check: Tollgate minus the no-work grpc-js server, median and bounds. */
export function ownShare(
  tollgate: AllocationResult,
  floor: AllocationResult | undefined,
): { median: number; min: number; max: number } | null {
  if (!floor) return null;
  return {
    median: tollgate.bytesPerCheck - floor.bytesPerCheck,
    // The widest the windows allow: Tollgate's lowest against the floor's highest, and back.
    min: Math.min(...tollgate.windows) - Math.max(...floor.windows),
    max: Math.max(...tollgate.windows) - Math.min(...floor.windows),
  };
}

async function run(ctx: BenchContext): Promise<PartResult> {
  const startedAt = new Date();
  const { settings } = ctx;
  const fx = await ctx.fixtures();

  ctx.log('part scale: allocation per cached Check');
  const allocation = await compareCheckAllocation(ctx);

  ctx.log(`part scale: minting tokens and ACLs for ${PRINCIPALS.toLocaleString('en-US')} principals`);
  const principals = await createPrincipalFixture(fx.tokens.issuer, PRINCIPALS, ctx.runDir);
  ctx.log(
    `part scale: minted in ${principals.mintSec.toFixed(1)} s; ${principals.table.rules.length} ACL rules`,
  );
  const readyStarted = performance.now();
  const tollgate = await startTollgateAuthz({
    name: 'tollgate-principals',
    dir: ctx.runDir,
    issuerUrl: fx.tokens.issuerUrl,
    aclFile: principals.aclFile,
    cpu: ctx.pinning.server,
  });
  const readySec = (performance.now() - readyStarted) / 1000;
  ctx.log(
    `part scale: Tollgate ready with ${principals.table.rules.length} rules in ${readySec.toFixed(1)} s`,
  );
  const points: ScalePoint[] = [];
  let cacheMissRatio = Number.NaN;
  try {
    // Every principal verified once (and its Check allowed) before anything is measured.
    // biome-ignore lint/suspicious/noExplicitAny: grpc-js package definitions are untyped trees.
    const Authorization = (grpc.loadPackageDefinition(authorizationDefinition()) as any).envoy.service.auth.v3
      .Authorization as typeof grpc.Client;
    const stub = new Authorization(tollgate.grpcTarget, grpc.credentials.createInsecure());
    try {
      await sendChecks(stub, jsonRequests(principals.pool.jsonFileFor('warm')), PRINCIPALS, 64);
    } finally {
      stub.close();
    }
    const hits0 = await tollgate.counter('tollgate_jwt_cache_requests_total', 'result="hit"');
    const misses0 = await tollgate.counter('tollgate_jwt_cache_requests_total', 'result="miss"');
    const rates: (number | null)[] = [null, ...settings.checkRates];
    const runs = new Map<number | null, LoadResult[]>(rates.map((r) => [r, []]));
    const skipped = new Map<number | null, number>(rates.map((r) => [r, 0]));
    for (let repeat = 0; repeat < settings.repeats; repeat++) {
      let capacity = Number.POSITIVE_INFINITY;
      for (const rate of rates) {
        if (rate !== null && rate > capacity) {
          skipped.set(rate, (skipped.get(rate) ?? 0) + 1);
          continue;
        }
        const r = await runGrpcLoad({
          bin: ctx.tools.grpcLoad,
          target: tollgate.grpcTarget,
          requestsFile: principals.pool.binaryFile,
          offset: principals.pool.positionOf(tollgate.grpcTarget),
          rps: rate,
          durationSec: settings.durationSec,
          concurrency: settings.saturationConcurrency,
          cpu: ctx.pinning.loadgen,
        });
        principals.pool.advance(tollgate.grpcTarget, r.requests + r.errors);
        if (r.denies > 0) ctx.log(`  WARNING: ${r.denies} of the principals' Checks were denied`);
        if (rate === null) capacity = r.rps;
        runs.get(rate)!.push(r);
        ctx.log(
          `  principals ${rateLabel(rate)} (run ${repeat + 1}/${settings.repeats}): ${rps(r.rps)} rps, ` +
            `p50 ${ms(r.p50Ms)} ms, p99 ${ms(r.p99Ms)} ms${r.errors > 0 ? `, ${r.errors} errors` : ''}`,
        );
        await waitForIdle(tollgate.proc.pid);
      }
    }
    const hits = (await tollgate.counter('tollgate_jwt_cache_requests_total', 'result="hit"')) - hits0;
    const misses = (await tollgate.counter('tollgate_jwt_cache_requests_total', 'result="miss"')) - misses0;
    cacheMissRatio = misses / Math.max(1, hits + misses);
    // Table order: fixed rates rising, saturation last.
    for (const rate of [...settings.checkRates, null]) {
      points.push({ rate, runs: runs.get(rate) ?? [], overCapacity: skipped.get(rate) ?? 0 });
    }
  } finally {
    await tollgate.proc.stop();
  }

  const data: CheckScaleData = {
    allocation,
    principals: PRINCIPALS,
    mintSec: principals.mintSec,
    aclRules: principals.table.rules.length,
    readySec,
    cacheMissRatio,
    points,
  };
  const kb = (bytes: number) => (bytes / 1024).toFixed(1);
  const own = ownShare(allocation.tollgate, allocation.floors['grpc-js']);
  const targets: TargetVerdict[] = [
    {
      target: `Cached-token Check: at most ${TARGET_BYTES_PER_CHECK / 1024} KB allocated per call (Tollgate's own share)`,
      measured: own
        ? `own share ${kb(own.median)} KB per Check (${kb(own.min)}–${kb(own.max)}): Tollgate ` +
          `${kb(allocation.tollgate.bytesPerCheck)} KB minus the no-work grpc-js server ` +
          `${kb(allocation.floors['grpc-js']!.bytesPerCheck)} KB; the total misses 4 KB because the transport ` +
          `alone allocates more (bare node:http2 ${kb(allocation.floors.http2?.bytesPerCheck ?? Number.NaN)} KB)`
        : `${kb(allocation.tollgate.bytesPerCheck)} KB per Check; the grpc-js floor was not measured`,
      met: own ? own.median <= TARGET_BYTES_PER_CHECK : null,
    },
  ];
  return {
    id: checkScale.id,
    title: checkScale.title,
    startedAt: startedAt.toISOString(),
    durationSec: (Date.now() - startedAt.getTime()) / 1000,
    method: [
      `(a) A Tollgate of its own (the shipped flags plus ${ALLOCATION_NODE_FLAGS.join(' ')}, so a window ` +
        'fits in the young generation) gets cached-token Checks over gRPC from a grpc-js client, 16 in flight; ' +
        `${allocation.tollgate.checksPerWindow * 3} unmeasured first. Per window: tollgate_nodejs_heap_size_used_bytes before and after ` +
        `${allocation.tollgate.checksPerWindow} Checks, minus one /metrics scrape's own allocation (${Math.round(allocation.tollgate.scrapeBytes / 1024)} KiB, ` +
        'measured with no Checks); a window in which tollgate_nodejs_gc_duration_seconds_count moved is dropped. ' +
        'Median of the clean windows. Then the same measurement, in the same run, against two servers that do ' +
        'no work (bench/harness/allocation-floor-server.ts): a grpc-js server that keeps the request bytes ' +
        'undecoded and answers pre-encoded bytes, and bare node:http2. Tollgate minus the grpc-js floor is ' +
        'Tollgate’s own share, the figure the 4 KB target is judged on. Last, a heap sampling profile ' +
        `(DevTools HeapProfiler, collected objects included) of ${allocation.profiledChecks} cached Checks.`,
      `(b) ${PRINCIPALS.toLocaleString('en-US')} principals minted by the benchmark's issuer (bench only), ` +
        `${data.aclRules.toLocaleString('en-US')} ACL rules (three per principal, no wildcard), one RS256 token each; ` +
        `each verified once before the load, then grpc-load round robin over them (Tollgate ready with that ` +
        `file in ${readySec.toFixed(1)} s): ` +
        `${(cacheMissRatio * 100).toFixed(1)}% cache misses in the measured runs.`,
      `${settings.durationSec} s per run, ${settings.repeats} runs per point; min / median / max shown; a point ` +
        'with errors in any run is failed; a rate above the same repeat’s saturation throughput is not run.',
      ctx.pinning.server === null
        ? 'Not pinned.'
        : `Tollgate on CPU ${ctx.pinning.server}, the load generator on CPU ${ctx.pinning.loadgen}. ${priorityNote()}`,
    ],
    data,
    targets,
  };
}

function render(result: PartResult): string {
  const data = result.data as CheckScaleData;
  const a = data.allocation;
  const bytes = (b: number) => Math.round(b).toLocaleString('en-US');
  const row = (label: string, r: AllocationResult) => [
    label,
    bytes(Math.min(...r.windows)),
    bytes(r.bytesPerCheck),
    bytes(Math.max(...r.windows)),
    String(r.windows.length),
    String(r.droppedWindows),
  ];
  const floorRows = FLOORS.flatMap((kind) => {
    const floor = a.floors[kind];
    return floor ? [row(FLOOR_LABEL[kind], floor)] : [];
  });
  const own = ownShare(a.tollgate, a.floors['grpc-js']);
  const ownRow = own
    ? [
        [
          '**Tollgate’s own share** (Tollgate − grpc-js floor)',
          bytes(own.min),
          `**${bytes(own.median)}**`,
          bytes(own.max),
          '',
          '',
        ],
      ]
    : [];
  const allocation = table(
    [
      `bytes per cached Check (windows of ${a.tollgate.checksPerWindow})`,
      'min',
      'median',
      'max',
      'windows',
      'dropped (GC)',
    ],
    [row('`tollgate authz` as shipped', a.tollgate), ...floorRows, ...ownRow],
  );
  const profile = a.profile
    ? `\n\nWhere the bytes are allocated (heap sampling profile of ${a.profiledChecks.toLocaleString('en-US')} ` +
      `cached Checks, bytes per Check):\n\n\`\`\`\n${formatHeapSummary(a.profile, '`tollgate authz`').trimEnd()}\n\`\`\``
    : '';
  const rows = data.points.map((p) =>
    p.runs.length === 0
      ? [rateLabel(p.rate), 'over capacity', '', '', '', '']
      : [
          rateLabel(p.rate),
          spreadCell(
            p.runs.map((r) => r.rps),
            rps,
          ),
          spreadCell(
            p.runs.map((r) => r.p50Ms),
            ms,
          ),
          spreadCell(
            p.runs.map((r) => r.p99Ms),
            ms,
          ),
          ms(medianOf(p.runs).p99Ms / medianOf(p.runs).p50Ms),
          errorsCell(p.runs),
        ],
  );
  return (
    `${allocation}${profile}\n\n**${data.principals.toLocaleString('en-US')} principals, cached tokens**\n\n` +
    table(['rate', 'throughput (rps)', 'p50 ms', 'p99 ms', 'p99 ÷ p50 (medians)', 'errors'], rows)
  );
}

export const checkScale: BenchPart = {
  id: 'scale',
  title: 'Check: allocation per cached Check, and 10,000 principals',
  needs: ['grpcLoad'],
  run,
  render,
};
