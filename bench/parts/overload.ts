import { assertVerdicts } from '../harness/check-probe.ts';
import type { BenchContext } from '../harness/context.ts';
import { type GrpcLoadResult, runGrpcLoad } from '../harness/grpc-load.ts';
import { median } from '../harness/load-result.ts';
import { priorityNote, waitForIdle } from '../harness/processes.ts';
import type { BenchPart, PartResult, TargetVerdict } from '../harness/results.ts';
import { startTollgateAuthz } from '../harness/tollgate-authz.ts';
import { ms, rps, spreadCell, table } from '../report/markdown.ts';

/**
 * Part 7: overload (issue #14). `tollgate authz` as shipped, cached-token Checks: its
 * saturation throughput (closed loop), then twice that offered open loop. With a deadline of
 * 1 s per call — Envoy's ext_authz timeout in deploy/envoy/envoy.yaml, sent as grpc-timeout —
 * a Check that waited past it is refused without work (DEADLINE_EXCEEDED) and a Check above
 * authz.maxConcurrentChecks is shed (UNAVAILABLE). Goodput: allowed answers per second.
 */

const CALL_DEADLINE_SEC = 1;
const OVERLOAD_FACTOR = 2;
const TARGET_GOODPUT = 0.8;

interface OverloadRun {
  readonly saturationRps: number;
  readonly offeredRps: number;
  /** Allowed answers per second of the overloaded run. */
  readonly goodputRps: number;
  readonly goodputShare: number;
  readonly answered: number;
  readonly denies: number;
  readonly errorKinds: Readonly<Record<string, number>>;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

interface OverloadData {
  readonly runs: readonly OverloadRun[];
}

function goodput(r: GrpcLoadResult): number {
  // r.rps is answered calls per second; the allows are the share of those that were allowed.
  return r.requests > 0 ? (r.rps * r.allows) / r.requests : 0;
}

async function run(ctx: BenchContext): Promise<PartResult> {
  const startedAt = new Date();
  const { settings } = ctx;
  const fx = await ctx.fixtures();
  const tollgate = await startTollgateAuthz({
    name: 'tollgate-overload',
    dir: ctx.runDir,
    issuerUrl: fx.tokens.issuerUrl,
    aclFile: fx.tollgateAclFile,
    cpu: ctx.pinning.server,
  });
  const pool = fx.checkPools.cached;
  const load = (rate: number | null, durationSec: number) =>
    runGrpcLoad({
      bin: ctx.tools.grpcLoad,
      target: tollgate.grpcTarget,
      requestsFile: pool.binaryFile,
      offset: 0,
      rps: rate,
      durationSec,
      concurrency: settings.saturationConcurrency,
      cpu: ctx.pinning.loadgen,
      timeoutSec: CALL_DEADLINE_SEC,
    });
  const runs: OverloadRun[] = [];
  try {
    await assertVerdicts('tollgate cached', tollgate.grpcTarget, pool.jsonFileFor(tollgate.grpcTarget), true);
    await load(null, settings.warmupSec);
    await waitForIdle(tollgate.proc.pid);
    for (let repeat = 0; repeat < settings.repeats; repeat++) {
      const saturation = await load(null, settings.durationSec);
      await waitForIdle(tollgate.proc.pid);
      const offered = Math.round(saturation.rps * OVERLOAD_FACTOR);
      const over = await load(offered, settings.durationSec);
      await waitForIdle(tollgate.proc.pid);
      const good = goodput(over);
      const r: OverloadRun = {
        saturationRps: saturation.rps,
        offeredRps: offered,
        goodputRps: good,
        goodputShare: saturation.rps > 0 ? good / saturation.rps : 0,
        answered: over.requests,
        denies: over.denies,
        errorKinds: over.errorKinds,
        p50Ms: over.p50Ms,
        p99Ms: over.p99Ms,
      };
      runs.push(r);
      ctx.log(
        `  overload (run ${repeat + 1}/${settings.repeats}): saturation ${rps(r.saturationRps)}/s, offered ` +
          `${rps(offered)}/s, goodput ${rps(good)}/s (${(r.goodputShare * 100).toFixed(0)}%), refused ` +
          `${JSON.stringify(r.errorKinds)}, p99 ${ms(r.p99Ms)} ms`,
      );
    }
  } finally {
    await tollgate.proc.stop();
  }
  const share = median(runs.map((r) => r.goodputShare));
  const wrong = runs.reduce((n, r) => n + r.denies, 0);
  const targets: TargetVerdict[] = [
    {
      target: `Overload: offered ${OVERLOAD_FACTOR}× saturation, goodput at least ${TARGET_GOODPUT * 100}% of saturation, every answer a correct decision or an explicit refusal`,
      measured:
        `goodput ${runs.map((r) => `${(r.goodputShare * 100).toFixed(0)}%`).join(' / ')} of saturation; ` +
        `${wrong} wrong verdicts; refusals by status: ${runs.map((r) => JSON.stringify(r.errorKinds)).join(' / ')}`,
      met: runs.length === 0 ? null : share >= TARGET_GOODPUT && wrong === 0,
    },
  ];
  return {
    id: overload.id,
    title: overload.title,
    startedAt: startedAt.toISOString(),
    durationSec: (Date.now() - startedAt.getTime()) / 1000,
    method: [
      '`tollgate authz` as shipped (authz.maxConcurrentChecks default), cached-token Checks from grpc-load on one ' +
        `HTTP/2 connection, each call with a ${CALL_DEADLINE_SEC} s deadline (Envoy's ext_authz timeout).`,
      `Per repeat: saturation (closed loop, ${settings.saturationConcurrency} in flight), then ` +
        `${OVERLOAD_FACTOR}× that rate open loop for ${settings.durationSec} s. Goodput: allowed answers per second. ` +
        'Refusals are counted by gRPC status: DeadlineExceeded covers both a refusal by Tollgate and the client ' +
        'giving up at its deadline; Unavailable is a shed Check.',
      ctx.pinning.server === null
        ? 'Not pinned.'
        : `Tollgate on CPU ${ctx.pinning.server}, the load generator on CPU ${ctx.pinning.loadgen}. ${priorityNote()}`,
    ],
    data: { runs } satisfies OverloadData,
    targets,
  };
}

function render(result: PartResult): string {
  const { runs } = result.data as OverloadData;
  const kinds = [...new Set(runs.flatMap((r) => Object.keys(r.errorKinds)))].sort();
  return table(
    ['figure', 'min / median / max over the repeats'],
    [
      [
        'saturation (answers/s)',
        spreadCell(
          runs.map((r) => r.saturationRps),
          rps,
        ),
      ],
      [
        'offered (requests/s)',
        spreadCell(
          runs.map((r) => r.offeredRps),
          rps,
        ),
      ],
      [
        'goodput (allows/s)',
        spreadCell(
          runs.map((r) => r.goodputRps),
          rps,
        ),
      ],
      [
        'goodput ÷ saturation',
        spreadCell(
          runs.map((r) => r.goodputShare * 100),
          (v) => `${v.toFixed(0)}%`,
        ),
      ],
      [
        'p50 ms of answered calls',
        spreadCell(
          runs.map((r) => r.p50Ms),
          ms,
        ),
      ],
      [
        'p99 ms of answered calls',
        spreadCell(
          runs.map((r) => r.p99Ms),
          ms,
        ),
      ],
      [
        'wrong verdicts (denies)',
        spreadCell(
          runs.map((r) => r.denies),
          String,
        ),
      ],
      ...kinds.map((kind) => [
        `refused: ${kind}`,
        spreadCell(
          runs.map((r) => r.errorKinds[kind] ?? 0),
          String,
        ),
      ]),
    ],
  );
}

export const overload: BenchPart = {
  id: 'overload',
  title: 'Overload: twice the saturation rate, goodput and explicit refusals',
  needs: ['grpcLoad'],
  run,
  render,
};
