import { join } from 'node:path';
import type { BenchContext } from '../harness/context.ts';
import {
  ENVOY_BENCH_PATH,
  ENVOY_VARIANTS,
  type EnvoyVariant,
  type RunningEnvoy,
  startEnvoy,
} from '../harness/envoy-variants.ts';
import { startFloor } from '../harness/floor-servers.ts';
import { type LoadResult, medianOf } from '../harness/load-result.ts';
import { runOha } from '../harness/oha.ts';
import { freePort } from '../harness/ports.ts';
import {
  answers200,
  priorityNote,
  type ServerProcess,
  startProcess,
  waitUntil,
} from '../harness/processes.ts';
import type { BenchPart, PartResult, TargetVerdict } from '../harness/results.ts';
import { REPO_ROOT, startTollgateAuthz } from '../harness/tollgate-authz.ts';
import { errorsCell, ms, rateLabel, rps, spreadCell, table } from '../report/markdown.ts';

/**
 * Part 3: HTTP through Envoy to a trivial upstream, four ways: no authorization, Tollgate's
 * ext_authz, Envoy's own jwt_authn + RBAC, and ext_authz to a server that does no work. The figure that matters is what each adds to
 * the no-authorization latency at the same rate.
 */

const VARIANT_LABEL: Record<EnvoyVariant, string> = {
  none: '(a) no authorization',
  tollgate: '(b) Tollgate ext_authz',
  'jwt-rbac': '(c) Envoy jwt_authn + RBAC',
  'ext-authz-noop': '(d) ext_authz to a server that does no work (grpc-go)',
};

const TARGET_ADDED_P50_MS = 0.5;

interface EnvoyPoint {
  readonly rate: number;
  readonly median: LoadResult;
  readonly runs: readonly LoadResult[];
}

interface ThroughEnvoyData {
  readonly points: Record<EnvoyVariant, EnvoyPoint[]>;
}

function pointAt(data: ThroughEnvoyData, variant: EnvoyVariant, rate: number): LoadResult | undefined {
  return data.points[variant]?.find((p) => p.rate === rate)?.median;
}

async function probe(variant: EnvoyVariant, envoy: RunningEnvoy, good: string, bad: string): Promise<void> {
  const get = async (token: string) => {
    const res = await fetch(`${envoy.url}${ENVOY_BENCH_PATH}`, {
      headers: { authorization: `Bearer ${token}`, 'x-tollgate-principal': 'mallory' },
      signal: AbortSignal.timeout(5000),
    });
    await res.arrayBuffer();
    return { status: res.status, principal: res.headers.get('x-seen-principal') };
  };
  const ok = await get(good);
  // Neither (a) nor (d) authorizes: no principal reaches the upstream, and the client's own
  // x-tollgate-principal must not either.
  const authorizes = variant === 'tollgate' || variant === 'jwt-rbac';
  const expected = authorizes ? 'alice' : '';
  if (ok.status !== 200 || ok.principal !== expected) {
    throw new Error(`envoy ${variant}: valid token got ${ok.status}, principal "${ok.principal}"`);
  }
  if (authorizes) {
    const denied = await get(bad);
    if (denied.status !== 401 && denied.status !== 403) {
      throw new Error(`envoy ${variant}: invalid token got ${denied.status}, expected 401/403`);
    }
  }
}

async function run(ctx: BenchContext): Promise<PartResult> {
  const startedAt = new Date();
  const fx = await ctx.fixtures();
  const { settings } = ctx;
  const stops: Array<() => Promise<void>> = [];
  const runs = new Map<string, LoadResult[]>();
  try {
    const upstreamPort = await freePort();
    const upstream: ServerProcess = startProcess({
      name: 'upstream',
      command: process.execPath,
      args: [join(REPO_ROOT, 'bench', 'harness', 'upstream-server.ts'), String(upstreamPort)],
      cpu: ctx.pinning.server,
      logFile: join(ctx.runDir, 'upstream.log'),
    });
    stops.push(() => upstream.stop());
    await waitUntil('upstream', () => answers200(`http://127.0.0.1:${upstreamPort}/`), 10000, upstream);
    const tollgate = await startTollgateAuthz({
      name: 'tollgate-envoy',
      dir: ctx.runDir,
      issuerUrl: fx.tokens.issuerUrl,
      aclFile: fx.tollgateAclFile,
      cpu: ctx.pinning.server,
    });
    stops.push(() => tollgate.proc.stop());
    const noop = await startFloor(ctx, 'grpc-go');
    stops.push(() => noop.proc.stop());
    const portOf = (grpcTarget: string) => Number(grpcTarget.split(':')[1]);
    const envoys = {} as Record<EnvoyVariant, RunningEnvoy>;
    for (const variant of ENVOY_VARIANTS) {
      const envoy = await startEnvoy({
        variant,
        envoy: ctx.tools.envoy,
        dir: ctx.runDir,
        cpu: ctx.pinning.server,
        upstreamPort,
        authzPort: portOf(variant === 'ext-authz-noop' ? noop.grpcTarget : tollgate.grpcTarget),
        issuerUrl: fx.tokens.issuerUrl,
        jwksJson: fx.tokens.jwksJson,
        acl: fx.acl,
      });
      stops.push(() => envoy.proc.stop());
      envoys[variant] = envoy;
      await probe(variant, envoy, fx.tokens.cached, fx.tokens.invalid[0]!);
    }

    const load = (variant: EnvoyVariant, rate: number, durationSec: number) =>
      runOha({
        oha: ctx.tools.oha,
        url: `${envoys[variant].url}${ENVOY_BENCH_PATH}`,
        headers: [`authorization: Bearer ${fx.tokens.cached}`, 'accept: application/vnd.kafka.v2+json'],
        rps: rate,
        durationSec,
        connections: settings.httpConnections,
        cpu: ctx.pinning.loadgen,
      });
    ctx.log('part envoy: warming up');
    for (const variant of ENVOY_VARIANTS) await load(variant, 1000, settings.warmupSec);

    ctx.log(`part envoy: measuring, rotating the order of the ${ENVOY_VARIANTS.length}`);
    let turn = 0;
    for (let repeat = 0; repeat < settings.repeats; repeat++) {
      for (const rate of settings.envoyRates) {
        const shift = turn++ % ENVOY_VARIANTS.length;
        const order = [...ENVOY_VARIANTS.slice(shift), ...ENVOY_VARIANTS.slice(0, shift)];
        for (const variant of order) {
          const result = await load(variant, rate, settings.durationSec);
          ctx.log(
            `  envoy ${variant} ${rate} rps (run ${repeat + 1}/${settings.repeats}): ` +
              `p50 ${result.p50Ms.toFixed(3)} ms, p99 ${result.p99Ms.toFixed(3)} ms` +
              (result.errors > 0 ? `, ${result.errors} errors ${JSON.stringify(result.statuses)}` : ''),
          );
          const key = `${variant}/${rate}`;
          runs.set(key, [...(runs.get(key) ?? []), result]);
          await new Promise((resolve) => setTimeout(resolve, 500));
        }
      }
    }
  } finally {
    for (const stop of stops.reverse()) await stop();
  }

  const points = {} as Record<EnvoyVariant, EnvoyPoint[]>;
  for (const variant of ENVOY_VARIANTS) {
    points[variant] = settings.envoyRates.map((rate) => {
      const list = runs.get(`${variant}/${rate}`) ?? [];
      return { rate, median: medianOf(list), runs: list };
    });
  }
  const data: ThroughEnvoyData = { points };
  const added = settings.envoyRates.map((rate) => {
    const a = pointAt(data, 'none', rate);
    const b = pointAt(data, 'tollgate', rate);
    return a && b ? { rate, p50: b.p50Ms - a.p50Ms } : null;
  });
  const worst = added.reduce<{ rate: number; p50: number } | null>(
    (w, x) => (x && (!w || x.p50 > w.p50) ? x : w),
    null,
  );
  const hop = settings.envoyRates.map((rate) => {
    const a = pointAt(data, 'none', rate);
    const d = pointAt(data, 'ext-authz-noop', rate);
    return a && d ? `${rateLabel(rate)}: +${ms(d.p50Ms - a.p50Ms)}` : null;
  });
  const targets: TargetVerdict[] = [
    {
      target: `Through Envoy: Tollgate adds at most ${TARGET_ADDED_P50_MS} ms p50 over no authorization`,
      measured: worst
        ? `+${ms(worst.p50)} ms p50 at worst (at ${rateLabel(worst.rate)}); ` +
          added.map((x) => (x ? `${rateLabel(x.rate)}: +${ms(x.p50)}` : '')).join(', ') +
          (hop.some((x) => x !== null)
            ? `; ext_authz to a server doing no work, same runs: ${hop.filter((x) => x !== null).join(', ')}`
            : '')
        : 'not measured',
      met: worst ? worst.p50 <= TARGET_ADDED_P50_MS : null,
    },
  ];
  return {
    id: throughEnvoy.id,
    title: throughEnvoy.title,
    startedAt: startedAt.toISOString(),
    durationSec: (Date.now() - startedAt.getTime()) / 1000,
    method: [
      'Envoy (one worker thread, --concurrency 1) built from deploy/envoy/envoy.yaml per variant (access log off in all); ' +
        'upstream: a node:http process answering 200.',
      '(d) keeps the shipped ext_authz filter and points it at a grpc-go server that allows every Check and does ' +
        'nothing else (grpc-load -serve, no headers in its answer): the cost of the ext_authz hop itself, ' +
        'Envoy’s side and a gRPC round trip, against which (b)’s own share is read.',
      `oha at fixed rates (-q, --latency-correction: latency counted from when each request was due), ` +
        `${settings.httpConnections} keep-alive HTTP/1.1 connections, GET ${ENVOY_BENCH_PATH} with one valid ` +
        'token (the client reuses its token, as real clients do for its lifetime).',
      ctx.pinning.server === null
        ? 'Not pinned.'
        : `Envoys, upstream, Tollgate and (d)’s server share CPU ${ctx.pinning.server}; oha runs on CPU ${ctx.pinning.loadgen}. ${priorityNote()}`,
      'jwt_authn has no check of the JWT `typ` header (Tollgate requires at+jwt) and RBAC holds only the ' +
        'rule for the benchmarked route: (c) does less than (b), it is the in-process lower bound.',
      `${settings.durationSec} s per run, ${settings.repeats} runs per point, the ${ENVOY_VARIANTS.length} rotated; min / median / max shown, added latency from medians; a point with errors in any run is failed.`,
    ],
    data,
    targets,
  };
}

function render(result: PartResult): string {
  const data = result.data as ThroughEnvoyData;
  const rates = data.points.none.map((p) => p.rate);
  const rows: string[][] = [];
  for (const rate of rates) {
    const a = pointAt(data, 'none', rate);
    for (const variant of ENVOY_VARIANTS) {
      const v = pointAt(data, variant, rate);
      const vRuns = data.points[variant]?.find((p) => p.rate === rate)?.runs ?? [];
      if (!v || !a) continue;
      const plus = (x: number) => (variant === 'none' ? '–' : `+${ms(x)}`);
      rows.push([
        rateLabel(rate),
        VARIANT_LABEL[variant],
        spreadCell(
          vRuns.map((r) => r.rps),
          rps,
        ),
        spreadCell(
          vRuns.map((r) => r.p50Ms),
          ms,
        ),
        spreadCell(
          vRuns.map((r) => r.p99Ms),
          ms,
        ),
        spreadCell(
          vRuns.map((r) => r.p999Ms),
          ms,
        ),
        plus(v.p50Ms - a.p50Ms),
        plus(v.p99Ms - a.p99Ms),
        errorsCell(vRuns),
      ]);
    }
  }
  return table(
    ['rate', 'Envoy with', 'rps', 'p50 ms', 'p99 ms', 'p99.9 ms', 'added p50 ms', 'added p99 ms', 'errors'],
    rows,
  );
}

export const throughEnvoy: BenchPart = {
  id: 'envoy',
  title: 'HTTP through Envoy: no authz vs Tollgate ext_authz vs jwt_authn + RBAC vs a no-work ext_authz',
  needs: ['oha', 'envoy'],
  run,
  render,
};
