import {
  type CheckMatrix,
  type CheckPoint,
  loadgenNote,
  measureCheckMatrix,
  warmUp,
} from '../harness/check-load.ts';
import { assertVerdicts } from '../harness/check-probe.ts';
import { type BenchContext, WORKLOAD_LABEL, WORKLOADS, type Workload } from '../harness/context.ts';
import { startOpaEnvoy } from '../harness/opa-envoy.ts';
import { measureOpaJwtCache, type OpaJwtCacheResult } from '../harness/opa-jwt-cache.ts';
import { priorityNote } from '../harness/processes.ts';
import type { BenchPart, PartResult, TargetVerdict } from '../harness/results.ts';
import { startTollgateAuthz } from '../harness/tollgate-authz.ts';
import { errorsCell, ms, rateLabel, ratio, rps, spreadCell, table } from '../report/markdown.ts';

/**
 * Part 2: the part 1 workload against Tollgate and OPA's Envoy plugin (bench/opa/policy.rego)
 * in the same run, both servers up and pinned to the same CPU, the load alternating between
 * them run by run. Ratios are Tollgate ÷ OPA.
 */

const TOLLGATE = 'tollgate';
const OPA = 'opa-envoy';

interface CheckVsOpaData {
  readonly matrix: CheckMatrix;
  /** OPA's io.jwt cache on the fresh workload and at exp (absent in results before issue #14). */
  readonly opaJwtCache?: OpaJwtCacheResult;
}

const OVER = 'over capacity';

function ratioRow(t: CheckPoint, o: CheckPoint): string[] {
  const tm = t.median;
  const om = o.median;
  return [
    rateLabel(t.rate),
    tm
      ? spreadCell(
          t.runs.map((r) => r.rps),
          rps,
        )
      : OVER,
    om
      ? spreadCell(
          o.runs.map((r) => r.rps),
          rps,
        )
      : OVER,
    tm && om ? ratio(tm.rps / om.rps) : '–',
    tm
      ? spreadCell(
          t.runs.map((r) => r.p99Ms),
          ms,
        )
      : '–',
    om
      ? spreadCell(
          o.runs.map((r) => r.p99Ms),
          ms,
        )
      : '–',
    tm && om ? ratio(tm.p99Ms / om.p99Ms) : '–',
    `${errorsCell(t.runs)} / ${errorsCell(o.runs)}`,
  ];
}

async function run(ctx: BenchContext): Promise<PartResult> {
  const startedAt = new Date();
  const fx = await ctx.fixtures();
  const tollgate = await startTollgateAuthz({
    name: 'tollgate-vs-opa',
    dir: ctx.runDir,
    issuerUrl: fx.tokens.issuerUrl,
    aclFile: fx.tollgateAclFile,
    cpu: ctx.pinning.server,
  });
  let matrix: CheckMatrix;
  let opaJwtCache: OpaJwtCacheResult;
  try {
    const opa = await startOpaEnvoy({
      bin: ctx.tools.opa,
      name: 'opa-envoy',
      dir: ctx.runDir,
      issuerUrl: fx.tokens.issuerUrl,
      jwksJson: fx.tokens.jwksJson,
      acl: fx.acl,
      cpu: ctx.pinning.server,
    });
    try {
      const targets = [
        { name: TOLLGATE, grpcTarget: tollgate.grpcTarget, pid: tollgate.proc.pid },
        { name: OPA, grpcTarget: opa.grpcTarget, pid: opa.proc.pid },
      ];
      for (const target of targets) {
        await assertVerdicts(
          `${target.name} cached`,
          target.grpcTarget,
          fx.checkPools.cached.jsonFileFor(target.grpcTarget),
          true,
        );
        await assertVerdicts(
          `${target.name} fresh`,
          target.grpcTarget,
          fx.checkPools.fresh.jsonFileFor(target.grpcTarget),
          true,
        );
        await assertVerdicts(
          `${target.name} invalid`,
          target.grpcTarget,
          fx.checkPools.invalid.jsonFileFor(target.grpcTarget),
          false,
        );
      }
      ctx.log('part opa: warming up both');
      for (const target of targets) await warmUp(ctx, target, WORKLOADS);
      ctx.log('part opa: measuring, alternating');
      matrix = await measureCheckMatrix(ctx, targets, WORKLOADS);

      // A second OPA, the same but for the io.jwt cache (off, OPA's default): what the cache
      // saves on the fresh workload, hence how many of those Checks it answered.
      ctx.log('part opa: OPA io.jwt cache behaviour (exp probe, CPU per Check with the cache on and off)');
      const opaOff = await startOpaEnvoy({
        bin: ctx.tools.opa,
        name: 'opa-envoy-nocache',
        dir: ctx.runDir,
        issuerUrl: fx.tokens.issuerUrl,
        jwksJson: fx.tokens.jwksJson,
        acl: fx.acl,
        cpu: ctx.pinning.server,
        jwtCacheEntries: 0,
      });
      try {
        const off = { name: 'opa-envoy-nocache', grpcTarget: opaOff.grpcTarget, pid: opaOff.proc.pid };
        await assertVerdicts(off.name, off.grpcTarget, fx.checkPools.fresh.jsonFileFor(off.grpcTarget), true);
        await warmUp(ctx, off, ['fresh']);
        opaJwtCache = await measureOpaJwtCache(ctx, targets[1]!, off, fx.tokens);
      } finally {
        await opaOff.proc.stop();
      }
    } finally {
      await opa.proc.stop();
    }
  } finally {
    await tollgate.proc.stop();
  }

  const t = matrix[TOLLGATE]?.cached?.find((p) => p.rate === null)?.median;
  const o = matrix[OPA]?.cached?.find((p) => p.rate === null)?.median;
  const targets: TargetVerdict[] = [
    {
      target: "Cached-token Check: at least 2× OPA-Envoy's saturation throughput at equal or lower p99",
      measured:
        t && o
          ? `${rps(t.rps)} vs ${rps(o.rps)} rps (${ratio(t.rps / o.rps)}), p99 ${ms(t.p99Ms)} vs ${ms(o.p99Ms)} ms`
          : 'not measured',
      met: t && o ? t.errors === 0 && t.rps >= 2 * o.rps && t.p99Ms <= o.p99Ms : null,
    },
    p99AgainstOpa(matrix),
  ];
  return {
    id: checkVsOpa.id,
    title: checkVsOpa.title,
    startedAt: startedAt.toISOString(),
    durationSec: (Date.now() - startedAt.getTime()) / 1000,
    method: [
      loadgenNote(ctx),
      'OPA: opa-envoy-plugin running bench/opa/policy.rego: io.jwt.decode_verify against the same JWKS ' +
        '(as data), `sub` → User:<sub>, the same ACL table as data, the same route → operation mapping ' +
        'for the benchmarked routes; its io.jwt cache on with 10,000 entries (Tollgate’s default size).',
      'A fixed rate above what a system sustained at saturation in the same repeat is not run for it ' +
        '(over capacity): past capacity an open-loop run only measures a growing backlog.',
      'Both servers up for the whole part' +
        (ctx.pinning.server === null
          ? ', not pinned.'
          : `, both pinned to CPU ${ctx.pinning.server}; the load generator on CPU ${ctx.pinning.loadgen}.`) +
        ` Load alternates between them run by run (A B, B A, ...). ${priorityNote()}`,
      'Before any load both are asked one Check per workload and must allow the valid tokens ' +
        '(setting x-tollgate-principal) and deny the invalid ones.',
      'Tollgate logs each denial (a pino line per invalid token), as in production; OPA’s decision ' +
        'logs are off, its default.',
      `${ctx.settings.durationSec} s per run, ${ctx.settings.repeats} runs per point; min / median / max shown, ratios of medians; a point with errors in any run is failed.`,
      'OPA’s io.jwt cache (bench/harness/opa-jwt-cache.ts): OPA 1.12 caches the signature verdict per token and ' +
        'key set and checks iss/aud/exp/nbf after the lookup; when full it evicts an arbitrary entry, not the least ' +
        'recently used, so part of the fresh pool is still cached when it comes round. OPA exports no counter for ' +
        'this cache, so the share of fresh Checks it answered is derived from CPU per Check (/proc/<pid>/stat): ' +
        'fresh tokens with the cache on, the same on a second OPA with it off, one repeated token with it on; ' +
        'hits ≈ (off − on) ÷ (off − one token), closed loop, one run each per repeat. Expiry: a token with a 2 s ' +
        'lifetime, allowed twice, then asked again after its exp.',
    ],
    data: { matrix, opaJwtCache } satisfies CheckVsOpaData,
    targets,
  };
}

/**
 * Issue #14, target 1: the cached Check's p99 no worse than OPA-Envoy's at every fixed rate both
 * ran (medians of the repeats; a rate over either one's capacity is not compared).
 */
function p99AgainstOpa(matrix: CheckMatrix): TargetVerdict {
  const tollgate = matrix[TOLLGATE]?.cached ?? [];
  const opa = matrix[OPA]?.cached ?? [];
  const compared = tollgate.flatMap((t) => {
    const o = opa.find((p) => p.rate === t.rate);
    return t.rate !== null && t.median && o?.median ? [{ rate: t.rate, t: t.median, o: o.median }] : [];
  });
  return {
    target: "Cached-token Check: p99 no worse than OPA-Envoy's at every rate both run",
    measured:
      compared.length === 0
        ? 'no rate run by both'
        : compared.map(({ rate, t, o }) => `${rps(rate)}/s: ${ms(t.p99Ms)} vs ${ms(o.p99Ms)} ms`).join('; '),
    met: compared.length === 0 ? null : compared.every(({ t, o }) => t.errors === 0 && t.p99Ms <= o.p99Ms),
  };
}

function render(result: PartResult): string {
  const { matrix } = result.data as CheckVsOpaData;
  const sections: string[] = [];
  for (const workload of WORKLOADS) {
    const tp = matrix[TOLLGATE]?.[workload as Workload];
    const op = matrix[OPA]?.[workload as Workload];
    if (!tp || !op) continue;
    const rows = tp.map((t, i) => ratioRow(t, op[i]!));
    sections.push(
      `**${WORKLOAD_LABEL[workload as Workload]}**\n\n` +
        table(
          [
            'rate',
            'Tollgate rps',
            'OPA rps',
            'rps T÷O',
            'Tollgate p99 ms',
            'OPA p99 ms',
            'p99 T÷O',
            'errors T / O',
          ],
          rows,
        ),
    );
  }
  const p50 = (WORKLOADS as readonly string[]).map((workload) => {
    const tp = matrix[TOLLGATE]?.[workload] ?? [];
    const op = matrix[OPA]?.[workload] ?? [];
    return [
      WORKLOAD_LABEL[workload as Workload],
      ...tp.map(
        (t, i) =>
          `${t.median ? ms(t.median.p50Ms) : OVER} / ${op[i]?.median ? ms(op[i].median.p50Ms) : OVER}`,
      ),
    ];
  });
  const rates = matrix[TOLLGATE]?.cached?.map((p) => rateLabel(p.rate)) ?? [];
  sections.push(`**p50 ms, Tollgate / OPA**\n\n${table(['workload', ...rates], p50)}`);
  const cache = (result.data as CheckVsOpaData).opaJwtCache;
  if (cache) {
    const us = (v: number) => `${v.toFixed(0)} µs`;
    const pct = (v: number) => `${(v * 100).toFixed(0)}%`;
    sections.push(
      `**OPA's io.jwt cache on the fresh workload** (${WORKLOAD_LABEL.fresh})\n\n${table(
        ['OPA', 'CPU per Check'],
        [
          [
            'fresh tokens, cache on (as in the tables above)',
            spreadCell(rawSpread(cache.cpuUsPerCheck.cacheOn), us),
          ],
          ['fresh tokens, cache off', spreadCell(rawSpread(cache.cpuUsPerCheck.cacheOff), us)],
          [
            'one token, cache on (every lookup a hit)',
            spreadCell(rawSpread(cache.cpuUsPerCheck.oneToken), us),
          ],
        ],
      )}\n\nFresh-token Checks OPA answered from its cache: ${spreadCell(rawSpread(cache.freshHitRatio), pct)} ` +
        '(from the CPU figures, which resolve it only on a quiet machine: a figure outside 0–100% means the ' +
        'three readings were within each other’s noise; a verification is a small part of OPA’s CPU per Check) ' +
        `— a model of its eviction over the same round robin, steady state: ${pct(cache.modelHitRatio)}. ` +
        `Tollgate's LRU: none (part 1). A cached token past its exp: ${cache.expiryRespected ? 'denied (exp is checked on hits)' : '**allowed**'}.`,
    );
  }
  return sections.join('\n\n');
}

export const checkVsOpa: BenchPart = {
  id: 'opa',
  title: 'Check: Tollgate vs OPA-Envoy',
  needs: ['grpcLoad', 'opa'],
  run,
  render,
};

/** A stored Spread as the values spreadCell takes. */
function rawSpread(s: { readonly min: number; readonly median: number; readonly max: number }): number[] {
  return [s.min, s.median, s.max];
}
