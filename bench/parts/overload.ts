import { assertVerdicts } from '../harness/check-probe.ts';
import type { BenchContext } from '../harness/context.ts';
import { runGrpcLoad } from '../harness/grpc-load.ts';
import { median } from '../harness/load-result.ts';
import { type AnswerClasses, classifyAnswers, everyAnswerExplained } from '../harness/overload-answers.ts';
import { priorityNote, waitForIdle } from '../harness/processes.ts';
import type { BenchPart, PartResult, TargetVerdict } from '../harness/results.ts';
import { startTollgateAuthz } from '../harness/tollgate-authz.ts';
import { ms, rps, spreadCell, table } from '../report/markdown.ts';

/**
 * Part 7: overload (issue #14). `tollgate authz` as shipped, cached-token Checks: its
 * saturation throughput (closed loop), then twice that offered open loop. With a deadline of
 * 1 s per call — Envoy's ext_authz timeout in deploy/envoy/envoy.yaml, sent as grpc-timeout —
 * a Check that waited past it is refused without work (DEADLINE_EXCEEDED), a Check above
 * authz.maxConcurrentChecks is shed (UNAVAILABLE). Two clients per repeat: one bounded like
 * the shipped Envoy (at most ENVOY_MAX_REQUESTS Checks in flight, the rest refused at once as
 * Envoy's circuit breaker does), which the target is judged on, and an unbounded one, which
 * shows what a client without that bound does to Tollgate. Goodput: allowed answers per second
 * of the sending window.
 */

const CALL_DEADLINE_SEC = 1;
const OVERLOAD_FACTOR = 2;
const TARGET_GOODPUT = 0.8;
/** circuit_breakers max_requests of the tollgate_authz cluster in deploy/envoy/envoy.yaml. */
const ENVOY_MAX_REQUESTS = 256;

/** Which client offered the overload. */
type OverloadClient = 'envoy-bounded' | 'unbounded';
const CLIENTS: readonly OverloadClient[] = ['envoy-bounded', 'unbounded'];
const CLIENT_LABEL: Record<OverloadClient, string> = {
  'envoy-bounded': `bounded like Envoy (${ENVOY_MAX_REQUESTS} in flight)`,
  unbounded: 'unbounded client',
};

interface OverloadRun {
  readonly client: OverloadClient;
  readonly saturationRps: number;
  readonly offeredRps: number;
  /** Allowed answers that arrived within the sending window, per second of it. */
  readonly goodputRps: number;
  readonly goodputShare: number;
  /** Every call of the overloaded run, classified. */
  readonly answers: AnswerClasses;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Latency of the refused calls (from when each was due). */
  readonly refusalP50Ms: number;
  readonly refusalP99Ms: number;
  /** One message per failed status, as the client saw it. */
  readonly errorSamples: Readonly<Record<string, string>>;
}

interface OverloadData {
  readonly runs: readonly OverloadRun[];
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
  const load = (rate: number | null, durationSec: number, maxOutstanding?: number) =>
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
      maxOutstanding,
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
      for (const client of CLIENTS) {
        const over = await load(
          offered,
          settings.durationSec,
          client === 'envoy-bounded' ? ENVOY_MAX_REQUESTS : undefined,
        );
        await waitForIdle(tollgate.proc.pid);
        // Counted over the sending window only: the backlog answered after it would otherwise
        // be credited to a window it was not sent in (or, dividing by the longer elapsed time,
        // the run would be charged for the drain).
        const good = over.windowSec > 0 ? over.windowAllows / over.windowSec : 0;
        const r: OverloadRun = {
          client,
          saturationRps: saturation.rps,
          offeredRps: offered,
          goodputRps: good,
          goodputShare: saturation.rps > 0 ? good / saturation.rps : 0,
          answers: classifyAnswers(over),
          p50Ms: over.p50Ms,
          p99Ms: over.p99Ms,
          refusalP50Ms: over.errorP50Ms,
          refusalP99Ms: over.errorP99Ms,
          errorSamples: over.errorSamples,
        };
        runs.push(r);
        ctx.log(
          `  overload (run ${repeat + 1}/${settings.repeats}, ${CLIENT_LABEL[client]}): saturation ` +
            `${rps(r.saturationRps)}/s, offered ${rps(offered)}/s, goodput ${rps(good)}/s ` +
            `(${(r.goodputShare * 100).toFixed(0)}%), ${r.answers.calls} calls: ${r.answers.allowed} allowed, ` +
            `${r.answers.wrong} wrong, refused ${JSON.stringify(r.answers.refused)} (p50 ` +
            `${ms(r.refusalP50Ms)} ms), unexplained ${JSON.stringify(r.answers.unexplained)}; p99 of answers ` +
            `${ms(r.p99Ms)} ms; messages ${JSON.stringify(r.errorSamples)}`,
        );
      }
    }
  } finally {
    await tollgate.proc.stop();
  }
  const judged = runs.filter((r) => r.client === 'envoy-bounded');
  const share = median(judged.map((r) => r.goodputShare));
  const explained = judged.every((r) => everyAnswerExplained(r.answers));
  const percent = (v: number) => `${(v * 100).toFixed(0)}%`;
  const targets: TargetVerdict[] = [
    {
      target: `Overload: offered ${OVERLOAD_FACTOR}× saturation, goodput at least ${TARGET_GOODPUT * 100}% of saturation, every answer a correct decision or an explicit refusal`,
      measured:
        `${CLIENT_LABEL['envoy-bounded']}: goodput ${spreadCell(
          judged.map((r) => r.goodputShare),
          percent,
        )} of saturation (min / median / max); ` +
        `${judged.reduce((n, r) => n + r.answers.wrong, 0)} wrong verdicts; unexplained failures: ` +
        `${judged.map((r) => JSON.stringify(r.answers.unexplained)).join(' / ')}`,
      met: judged.length === 0 ? null : share >= TARGET_GOODPUT && explained,
    },
  ];
  return {
    id: overload.id,
    title: overload.title,
    startedAt: startedAt.toISOString(),
    durationSec: (Date.now() - startedAt.getTime()) / 1000,
    method: [
      '`tollgate authz` as shipped (authz.maxConcurrentChecks and authz.maxConcurrentStreams at their defaults), ' +
        `cached-token Checks from grpc-load on one HTTP/2 connection, each call with a ${CALL_DEADLINE_SEC} s ` +
        "deadline (Envoy's ext_authz timeout).",
      `Per repeat: saturation (closed loop, ${settings.saturationConcurrency} in flight), then ` +
        `${OVERLOAD_FACTOR}× that rate open loop for ${settings.durationSec} s, twice: ${CLIENT_LABEL['envoy-bounded']}, ` +
        "a call past the bound refused by the generator at once (LocalOverflow) as the shipped Envoy's circuit " +
        'breaker on the authz cluster (max_requests) answers 503 without calling Tollgate; then an unbounded ' +
        'client, for comparison. The target is judged on the bounded client. Goodput: allowed answers that ' +
        'arrived within the sending window, per second of it.',
      'Every call is classified: allowed (the correct decision), denied (wrong), an explicit refusal ' +
        '(DeadlineExceeded: refused by Tollgate past its deadline, or held by the client past the stream limit ' +
        'until its deadline; Unavailable: shed) or unexplained (any other status, e.g. Internal from a torn-down ' +
        'connection). A run with a wrong verdict or an unexplained failure cannot meet the target.',
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
  return CLIENTS.map((client) => {
    const mine = runs.filter((r) => r.client === client);
    return `**${CLIENT_LABEL[client]}**\n\n${renderClient(mine)}`;
  }).join('\n\n');
}

/** A count; a median of two repeats can fall between two integers. */
const count = (v: number) => String(Math.round(v));

function renderClient(runs: readonly OverloadRun[]): string {
  const refusedKinds = [...new Set(runs.flatMap((r) => Object.keys(r.answers.refused)))].sort();
  const unexplainedKinds = [...new Set(runs.flatMap((r) => Object.keys(r.answers.unexplained)))].sort();
  const row = (label: string, values: number[], format: (v: number) => string) => [
    label,
    spreadCell(values, format),
  ];
  return table(
    ['figure', 'min / median / max over the repeats'],
    [
      row(
        'saturation (answers/s)',
        runs.map((r) => r.saturationRps),
        rps,
      ),
      row(
        'offered (requests/s)',
        runs.map((r) => r.offeredRps),
        rps,
      ),
      row(
        'goodput (allows/s in the sending window)',
        runs.map((r) => r.goodputRps),
        rps,
      ),
      row(
        'goodput ÷ saturation',
        runs.map((r) => r.goodputShare * 100),
        (v) => `${v.toFixed(0)}%`,
      ),
      row(
        'p50 ms of allowed answers',
        runs.map((r) => r.p50Ms),
        ms,
      ),
      row(
        'p99 ms of allowed answers',
        runs.map((r) => r.p99Ms),
        ms,
      ),
      row(
        'calls',
        runs.map((r) => r.answers.calls),
        count,
      ),
      row(
        'allowed (correct)',
        runs.map((r) => r.answers.allowed),
        count,
      ),
      row(
        'denied (wrong verdict)',
        runs.map((r) => r.answers.wrong),
        count,
      ),
      ...refusedKinds.map((kind) =>
        row(
          `refused: ${kind}`,
          runs.map((r) => r.answers.refused[kind] ?? 0),
          count,
        ),
      ),
      row(
        'p50 ms of refusals',
        runs.map((r) => r.refusalP50Ms),
        ms,
      ),
      ...unexplainedKinds.map((kind) =>
        row(
          `**unexplained: ${kind}**`,
          runs.map((r) => r.answers.unexplained[kind] ?? 0),
          count,
        ),
      ),
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
