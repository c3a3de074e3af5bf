import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertVerdicts } from '../harness/check-probe.ts';
import { createRequestPool, type RequestPool } from '../harness/check-requests.ts';
import type { BenchContext } from '../harness/context.ts';
import { runGrpcLoad } from '../harness/grpc-load.ts';
import { type LoadResult, median } from '../harness/load-result.ts';
import { cpuSeconds, priorityNote, runToCompletion, waitForIdle } from '../harness/processes.ts';
import type { BenchPart, PartResult } from '../harness/results.ts';
import { AUDIENCE, mintPool } from '../harness/token-fixture.ts';
import { REPO_ROOT, startTollgateAuthz, tollgateNodeFlags } from '../harness/tollgate-authz.ts';
import { errorsCell, ms, rps, spreadCell, table } from '../report/markdown.ts';

/**
 * Part 8: cold verification rate per core (issue #14, target 6). `tollgate authz` as shipped
 * gets closed-loop Checks in which every token is distinct and valid, so every Check is a full
 * signature verification — separately for RS256 (RSA 2048) and ES256 (P-256) tokens. Per run:
 * Checks per second, the Tollgate process's CPU-seconds (/proc/<pid>/stat, every thread), hence
 * verifications per CPU-second, and the verified-token cache's hits and misses
 * (`tollgate_jwt_cache_requests_total`), which prove no Check was answered from the cache. The
 * floor: `jose.jwtVerify` alone in one process on the same core (harness/jose-verify-floor.ts).
 */

type Alg = 'RS256' | 'ES256';
const ALGS: readonly Alg[] = ['RS256', 'ES256'];
const ALG_LABEL: Record<Alg, string> = { RS256: 'RS256 (RSA 2048)', ES256: 'ES256 (P-256)' };
const FLOOR_SCRIPT = join(REPO_ROOT, 'bench', 'harness', 'jose-verify-floor.ts');
/** In-flight verifications of the floor: one at a time, and as many as the saturation runs keep. */
const FLOOR_CONCURRENCY = [1, 64] as const;
/** Seconds per floor run: a loop of jwtVerify in one process settles within a second or two. */
const FLOOR_SEC = 5;

interface TollgateRun extends LoadResult {
  readonly cpuSec: number;
  /** Checks answered per CPU-second of the Tollgate process. */
  readonly checksPerCpuSec: number;
  readonly cacheHits: number;
  readonly cacheMisses: number;
  readonly denies: number;
}

interface FloorRun {
  readonly concurrency: number;
  readonly verified: number;
  readonly perSec: number;
  readonly perCpuSec: number;
}

interface VerifyRateData {
  readonly poolSize: number;
  readonly mintSec: Record<Alg, number>;
  readonly tollgate: Record<Alg, TollgateRun[]>;
  /** The same Tollgate on one repeated token (every Check a cache hit): the cost without the verification. */
  readonly cached: TollgateRun[];
  readonly floor: Record<Alg, FloorRun[]>;
}

async function measureTollgate(
  ctx: BenchContext,
  tollgate: Awaited<ReturnType<typeof startTollgateAuthz>>,
  pool: RequestPool,
  durationSec: number,
): Promise<TollgateRun> {
  const cache = (result: string) =>
    tollgate.counter('tollgate_jwt_cache_requests_total', `result="${result}"`);
  const [hits0, misses0] = [await cache('hit'), await cache('miss')];
  const cpu0 = cpuSeconds(tollgate.proc.pid);
  const r = await runGrpcLoad({
    bin: ctx.tools.grpcLoad,
    target: tollgate.grpcTarget,
    requestsFile: pool.binaryFile,
    offset: pool.positionOf(tollgate.grpcTarget),
    rps: null,
    durationSec,
    concurrency: ctx.settings.saturationConcurrency,
    cpu: ctx.pinning.loadgen,
  });
  const cpu1 = cpuSeconds(tollgate.proc.pid);
  if (cpu0 === null || cpu1 === null) throw new Error('verify-rate: Tollgate exited during a run');
  // grpc-load's unmeasured first call sends the request at -offset and its measured calls the
  // ones after it, so a run ends on the token at offset + sent. Skipping one more makes the
  // next run's first call a new token too: the cache counters, read around the whole run,
  // then count no hit that a measured Check did not make.
  pool.advance(tollgate.grpcTarget, r.requests + r.errors + 1);
  const [hits, misses] = [(await cache('hit')) - hits0, (await cache('miss')) - misses0];
  const cpuSec = cpu1 - cpu0;
  return {
    ...r,
    cpuSec,
    checksPerCpuSec: r.requests / cpuSec,
    cacheHits: hits,
    cacheMisses: misses,
    denies: r.denies,
  };
}

async function measureFloor(
  ctx: BenchContext,
  inputFile: string,
  durationSec: number,
  concurrency: number,
): Promise<FloorRun> {
  const out = await runToCompletion(
    ctx.pinning.server,
    process.execPath,
    [...tollgateNodeFlags(), FLOOR_SCRIPT, inputFile, String(durationSec), String(concurrency)],
    (durationSec * 3 + 60) * 1000,
  );
  if (out.code !== 0)
    throw new Error(`jose-verify-floor exited with ${out.code}: ${out.stderr.slice(0, 500)}`);
  const r = JSON.parse(out.stdout) as { verified: number; elapsedSec: number; cpuSec: number };
  return {
    concurrency,
    verified: r.verified,
    perSec: r.verified / r.elapsedSec,
    perCpuSec: r.verified / r.cpuSec,
  };
}

async function run(ctx: BenchContext): Promise<PartResult> {
  const startedAt = new Date();
  const { settings } = ctx;
  const fx = await ctx.fixtures();
  const poolSize = settings.tokenPoolSize;
  const floorSec = Math.min(FLOOR_SEC, settings.durationSec);

  // RS256: the shared fresh pool (12,000 distinct tokens). ES256: a pool of the same size
  // signed with the issuer's P-256 key. Both larger than Tollgate's 10,000-entry cache.
  const started = performance.now();
  const es256 = await mintPool(fx.tokens.issuer, 'ES256', poolSize);
  const mintSec: Record<Alg, number> = {
    RS256: fx.tokens.mintSec,
    ES256: (performance.now() - started) / 1000,
  };
  const tokens: Record<Alg, readonly string[]> = { RS256: fx.tokens.fresh, ES256: es256 };
  const pools: Record<Alg, RequestPool> = {
    RS256: fx.checkPools.fresh,
    ES256: createRequestPool(join(ctx.runDir, 'check-fresh-es256'), es256),
  };
  const floorInputs = {} as Record<Alg, string>;
  for (const alg of ALGS) {
    floorInputs[alg] = join(ctx.runDir, `jose-floor-${alg}.json`);
    writeFileSync(
      floorInputs[alg],
      JSON.stringify({
        jwks: JSON.parse(fx.tokens.jwksJson),
        tokens: tokens[alg],
        issuer: fx.tokens.issuerUrl,
        audience: AUDIENCE,
        algorithms: ['RS256', 'ES256'],
        typ: 'at+jwt',
      }),
    );
  }

  const tollgate = await startTollgateAuthz({
    name: 'tollgate-verify-rate',
    dir: ctx.runDir,
    issuerUrl: fx.tokens.issuerUrl,
    aclFile: fx.tollgateAclFile,
    cpu: ctx.pinning.server,
  });
  const runs: Record<Alg, TollgateRun[]> = { RS256: [], ES256: [] };
  const cached: TollgateRun[] = [];
  const floor: Record<Alg, FloorRun[]> = { RS256: [], ES256: [] };
  try {
    for (const alg of ALGS) {
      await assertVerdicts(
        `tollgate ${alg}`,
        tollgate.grpcTarget,
        pools[alg].jsonFileFor(tollgate.grpcTarget),
        true,
      );
      ctx.log(`part verify-rate: warming up on ${alg}`);
      await measureTollgate(ctx, tollgate, pools[alg], settings.warmupSec);
      await waitForIdle(tollgate.proc.pid);
    }
    await measureTollgate(ctx, tollgate, fx.checkPools.cached, settings.warmupSec);
    await waitForIdle(tollgate.proc.pid);
    for (let repeat = 0; repeat < settings.repeats; repeat++) {
      // A B, B A, ...: a drift in the machine's speed lands on both algorithms alike.
      const order = repeat % 2 === 0 ? ALGS : [...ALGS].reverse();
      for (const alg of order) {
        const r = await measureTollgate(ctx, tollgate, pools[alg], settings.durationSec);
        runs[alg].push(r);
        ctx.log(
          `  tollgate ${alg} (run ${repeat + 1}/${settings.repeats}): ${rps(r.rps)} Checks/s, ` +
            `${r.cpuSec.toFixed(2)} CPU-s, ${rps(r.checksPerCpuSec)} per CPU-s, cache hits ${r.cacheHits} ` +
            `misses ${r.cacheMisses}${r.errors > 0 ? `, ${r.errors} errors` : ''}` +
            `${r.denies > 0 ? `, WARNING: ${r.denies} denied` : ''}`,
        );
        await waitForIdle(tollgate.proc.pid);
      }
      const c = await measureTollgate(ctx, tollgate, fx.checkPools.cached, settings.durationSec);
      cached.push(c);
      ctx.log(
        `  tollgate cached token (run ${repeat + 1}/${settings.repeats}): ${rps(c.rps)} Checks/s, ` +
          `${rps(c.checksPerCpuSec)} per CPU-s, cache hits ${c.cacheHits} misses ${c.cacheMisses}`,
      );
      await waitForIdle(tollgate.proc.pid);
      for (const alg of order) {
        for (const concurrency of FLOOR_CONCURRENCY) {
          const f = await measureFloor(ctx, floorInputs[alg], floorSec, concurrency);
          floor[alg].push(f);
          ctx.log(
            `  jose.jwtVerify ${alg}, ${concurrency} in flight: ${rps(f.perSec)}/s, ${rps(f.perCpuSec)} per CPU-s`,
          );
        }
      }
    }
  } finally {
    await tollgate.proc.stop();
  }

  const data: VerifyRateData = { poolSize, mintSec, tollgate: runs, cached, floor };
  return {
    id: verifyRate.id,
    title: verifyRate.title,
    startedAt: startedAt.toISOString(),
    durationSec: (Date.now() - startedAt.getTime()) / 1000,
    method: [
      `\`tollgate authz\` as shipped (launchTollgate: deploy/node-flags, default config, 10,000-entry verified-token ` +
        `cache). Per algorithm a pool of ${poolSize.toLocaleString('en-US')} distinct valid tokens for alice (distinct jti), ` +
        `signed by the benchmark's in-process issuer with keys generated at start (RSA 2048 for RS256, P-256 for ES256; ` +
        `never stored), sent round robin in Envoy-shaped CheckRequests: every token comes round only after the LRU ` +
        `evicted it, so every Check is a full verification. The cache counters (tollgate_jwt_cache_requests_total) ` +
        `are read before and after each run and shown: hits must be 0.`,
      `Closed loop (grpc-load, ${settings.saturationConcurrency} calls in flight on one HTTP/2 connection), ` +
        `${settings.durationSec} s per run, ${settings.repeats} runs per algorithm alternated (A B, B A), after ` +
        `${settings.warmupSec} s unmeasured per algorithm. CPU: utime + stime of the Tollgate process from ` +
        '/proc/<pid>/stat before and after each run (every thread, WebCrypto’s libuv pool included); ' +
        'verifications per CPU-second = Checks ÷ those CPU-seconds, the rate one fully used core would give.',
      'Floor: jose.jwtVerify alone (bench/harness/jose-verify-floor.ts: same jose, same options as Tollgate’s ' +
        'verifier, the JWKS in memory, no gRPC, no cache), one process with the shipped Node flags on the server ' +
        `core, ${FLOOR_CONCURRENCY.join(' and ')} verifications in flight, ${floorSec} s each, per repeat.`,
      'Reference: the same Tollgate, closed loop on one repeated token (every Check a cache hit), once per repeat: ' +
        'a cold Check’s CPU minus a cached one’s is what the verification adds.',
      'min / median / max over the repeats; a run with errors or denials makes its row failed.',
      ctx.pinning.server === null
        ? 'Not pinned.'
        : `Tollgate and the floor on CPU ${ctx.pinning.server}, grpc-load on CPU ${ctx.pinning.loadgen}. ${priorityNote()}`,
    ],
    data,
    targets: [],
  };
}

function tollgateRow(label: string, runs: readonly TollgateRun[]): string[] {
  return [
    label,
    spreadCell(
      runs.map((r) => r.rps),
      rps,
    ),
    spreadCell(
      runs.map((r) => r.checksPerCpuSec),
      rps,
    ),
    spreadCell(
      runs.map((r) => r.p50Ms),
      ms,
    ),
    spreadCell(
      runs.map((r) => r.p99Ms),
      ms,
    ),
    `${runs.reduce((n, r) => n + r.cacheHits, 0).toLocaleString('en-US')} / ${runs.reduce((n, r) => n + r.cacheMisses, 0).toLocaleString('en-US')}`,
    errorsCell(runs.map((r) => ({ errors: r.errors + r.denies }))),
  ];
}

/** CPU microseconds per call, from calls per CPU-second. */
const cpuUs = (perCpuSec: number) => 1e6 / perCpuSec;

function render(result: PartResult): string {
  const data = result.data as VerifyRateData;
  const rows: string[][] = [];
  for (const alg of ALGS) {
    if (data.tollgate[alg].length > 0)
      rows.push(tollgateRow(`${ALG_LABEL[alg]}: \`tollgate authz\` Check, new token`, data.tollgate[alg]));
    for (const concurrency of FLOOR_CONCURRENCY) {
      const floor = data.floor[alg].filter((f) => f.concurrency === concurrency);
      if (floor.length === 0) continue;
      rows.push([
        `${ALG_LABEL[alg]}: jose.jwtVerify alone, ${concurrency} in flight`,
        spreadCell(
          floor.map((f) => f.perSec),
          rps,
        ),
        spreadCell(
          floor.map((f) => f.perCpuSec),
          rps,
        ),
        '–',
        '–',
        '–',
        '0',
      ]);
    }
  }
  if (data.cached.length > 0)
    rows.push(tollgateRow('reference: `tollgate authz` Check, one token (cache hit)', data.cached));
  const cachedUs = cpuUs(median(data.cached.map((r) => r.checksPerCpuSec)));
  const costs = ALGS.map((alg) => {
    const checkUs = cpuUs(median(data.tollgate[alg].map((r) => r.checksPerCpuSec)));
    const joseUs = cpuUs(median(data.floor[alg].filter((f) => f.concurrency === 64).map((f) => f.perCpuSec)));
    const us = (v: number) => (Number.isFinite(v) ? `${v.toFixed(0)} µs` : '–');
    return `${alg}: a cold Check ${us(checkUs)} of CPU, of which ${us(checkUs - cachedUs)} more than a cached one; jose alone ${us(joseUs)}`;
  });
  return `${table(
    ['what', 'per second', 'per CPU-second', 'p50 ms', 'p99 ms', 'cache hits / misses', 'errors'],
    rows,
  )}\n\nCPU per call (medians): ${costs.join('; ')}.`;
}

export const verifyRate: BenchPart = {
  id: 'verify-rate',
  title: 'Cold verification rate per core: RS256 and ES256',
  needs: ['grpcLoad'],
  run,
  render,
};
