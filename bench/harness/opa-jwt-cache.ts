import grpc from '@grpc/grpc-js';
import { type CheckTarget, loadCheck } from './check-load.ts';
import { BENCH_ROUTES, checkRequest } from './check-requests.ts';
import type { BenchContext, Workload } from './context.ts';
import { authorizationDefinition } from './envoy-protos.ts';
import { type Spread, spreadOf } from './load-result.ts';
import { OPA_JWT_CACHE_ENTRIES } from './opa-envoy.ts';
import { cpuSeconds } from './processes.ts';
import { PRINCIPAL, type TokenFixture } from './token-fixture.ts';

/**
 * What OPA's io.jwt cache does on part 2's workloads, measured on the running servers.
 *
 * OPA 1.12 (topdown/tokens.go) keys its `io_jwt` inter-query cache by the token and the key
 * material, stores the signature verdict with the decoded header and payload, and checks iss,
 * aud, exp and nbf after the lookup, on hits too. When full, an insert evicts an arbitrary entry
 * (the first of a Go map's randomised iteration), not the least recently used one: a token
 * that comes round again after 12,000 others can still be there. OPA exports no hit counter for
 * this cache (glob and regex have one, io.jwt not), so:
 *  - expiry: a token with a 2 s lifetime is allowed twice (the second from the cache), then
 *    asked again after its exp: it must be denied;
 *  - hit ratio on the fresh workload, from CPU per Check (the servers' /proc/<pid>/stat):
 *    with the cache on (c_on), with it off (c_off, a second OPA, otherwise the same) and on one
 *    repeated token (c_hit, every lookup a hit): hits ≈ (c_off − c_on) ÷ (c_off − c_hit).
 *  - the same ratio from a model of that eviction over the sequence the benchmark sends.
 */

export interface OpaJwtCacheResult {
  /** A cached valid token was denied once its exp had passed. */
  readonly expiryRespected: boolean;
  /** CPU microseconds per Check: fresh tokens with the cache on and off, one token with it on. */
  readonly cpuUsPerCheck: { readonly cacheOn: Spread; readonly cacheOff: Spread; readonly oneToken: Spread };
  /** Share of fresh-token Checks answered from the cache, per repeat (from the CPU figures). */
  readonly freshHitRatio: Spread;
  /** The same from a model of OPA's eviction (random entry when full) over the round robin. */
  readonly modelHitRatio: number;
}

type CheckCall = (
  request: unknown,
  done: (err: Error | null, res: { status?: { code?: number } }) => void,
) => void;

async function isAllowed(target: string, token: string): Promise<boolean> {
  // biome-ignore lint/suspicious/noExplicitAny: grpc-js package definitions are untyped trees.
  const Authorization = (grpc.loadPackageDefinition(authorizationDefinition()) as any).envoy.service.auth.v3
    .Authorization as typeof grpc.Client;
  const stub = new Authorization(target, grpc.credentials.createInsecure()) as unknown as {
    Check: CheckCall;
    close(): void;
  };
  try {
    const res = await new Promise<{ status?: { code?: number } }>((resolve, reject) => {
      stub.Check(checkRequest(BENCH_ROUTES[2]!, token), (err, r) => (err ? reject(err) : resolve(r)));
    });
    return (res.status?.code ?? 0) === 0;
  } finally {
    stub.close();
  }
}

/** Allowed while valid (twice: the second a cache hit), denied after exp. */
export async function probeExpiry(target: string, tokens: TokenFixture): Promise<boolean> {
  const ttlSec = 2;
  const token = await tokens.issuer.mint(PRINCIPAL, { ttlSec });
  const expMs =
    (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { exp: number }).exp * 1000;
  if (!(await isAllowed(target, token)) || !(await isAllowed(target, token)))
    throw new Error('OPA denied a valid token before its exp');
  // OPA rejects when now >= exp; wait a little past it.
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, expMs - Date.now()) + 1200));
  return !(await isAllowed(target, token));
}

/**
 * Expected share of hits for a round robin over `poolSize` distinct tokens through a cache of
 * `capacity` entries that evicts a random entry when full (OPA 1.12's io_jwt bucket), over
 * `requests` lookups after the pool went round once.
 */
export function modelRandomEvictionHits(poolSize: number, capacity: number, requests: number): number {
  const slots: number[] = [];
  const where = new Map<number, number>();
  let hits = 0;
  let seed = 0x2545f491;
  const random = () => {
    // xorshift32: deterministic, so the figure does not move between runs of the report.
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 2 ** 32;
  };
  for (let i = 0; i < poolSize + requests; i++) {
    const token = i % poolSize;
    if (where.has(token)) {
      if (i >= poolSize) hits++;
      continue;
    }
    if (slots.length >= capacity) {
      const victim = Math.floor(random() * slots.length);
      const evicted = slots[victim]!;
      const last = slots.pop()!;
      where.delete(evicted);
      if (victim < slots.length) {
        slots[victim] = last;
        where.set(last, victim);
      }
    }
    where.set(token, slots.length);
    slots.push(token);
  }
  return hits / requests;
}

async function cpuUsPerCheck(ctx: BenchContext, target: CheckTarget, workload: Workload): Promise<number> {
  const cpu0 = cpuSeconds(target.pid);
  const r = await loadCheck(ctx, target, workload, {
    rps: null,
    durationSec: ctx.settings.durationSec,
    concurrency: ctx.settings.saturationConcurrency,
  });
  const cpu1 = cpuSeconds(target.pid);
  if (cpu0 === null || cpu1 === null) throw new Error(`${target.name} exited during a run`);
  // loadCheck waited for the server to go idle, so the CPU read covers the whole run.
  return ((cpu1 - cpu0) * 1e6) / Math.max(1, r.requests + r.errors);
}

/** The three CPU runs per repeat, alternated, on the cache-on and cache-off OPAs. */
export async function measureOpaJwtCache(
  ctx: BenchContext,
  cacheOn: CheckTarget,
  cacheOff: CheckTarget,
  tokens: TokenFixture,
): Promise<OpaJwtCacheResult> {
  const expiryRespected = await probeExpiry(cacheOn.grpcTarget, tokens);
  // The hit share is a steady-state figure: the cache-on OPA must have gone round the fresh
  // pool at least once and a half before it is measured (a quick run's matrix may not have).
  const pool = (await ctx.fixtures()).checkPools.fresh;
  while (pool.sentTo(cacheOn.grpcTarget) < pool.size * 1.5) {
    await loadCheck(ctx, cacheOn, 'fresh', {
      rps: null,
      durationSec: ctx.settings.durationSec,
      concurrency: ctx.settings.saturationConcurrency,
    });
  }
  const on: number[] = [];
  const off: number[] = [];
  const one: number[] = [];
  const ratios: number[] = [];
  for (let repeat = 0; repeat < ctx.settings.repeats; repeat++) {
    const runs: Array<[number[], CheckTarget, Workload]> = [
      [on, cacheOn, 'fresh'],
      [off, cacheOff, 'fresh'],
      [one, cacheOn, 'cached'],
    ];
    for (const [into, target, workload] of repeat % 2 === 0 ? runs : runs.reverse()) {
      into.push(await cpuUsPerCheck(ctx, target, workload));
    }
    const [cOn, cOff, cHit] = [on.at(-1)!, off.at(-1)!, one.at(-1)!];
    ratios.push((cOff - cOn) / (cOff - cHit));
    ctx.log(
      `  OPA io.jwt cache (run ${repeat + 1}/${ctx.settings.repeats}): CPU per Check fresh ${cOn.toFixed(0)} µs ` +
        `(cache off ${cOff.toFixed(0)} µs, one token ${cHit.toFixed(0)} µs): ~${(ratios.at(-1)! * 100).toFixed(0)}% hits`,
    );
  }
  return {
    expiryRespected,
    cpuUsPerCheck: { cacheOn: spreadOf(on), cacheOff: spreadOf(off), oneToken: spreadOf(one) },
    freshHitRatio: spreadOf(ratios),
    modelHitRatio: modelRandomEvictionHits(ctx.settings.tokenPoolSize, OPA_JWT_CACHE_ENTRIES, 120000),
  };
}
