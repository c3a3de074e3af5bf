/**
 * How long and how hard each part runs. Quick mode keeps every part to a few minutes; the
 * full run is what BENCHMARKS.md quotes. Every load run is bounded in requests and in time.
 */

export interface BenchSettings {
  readonly mode: 'quick' | 'full';
  /** Check load generator: grpc-load (bench/loadgen, the default) or ghz. */
  readonly loadgen: 'grpc-load' | 'ghz';
  /** Each measurement is repeated this often (A/B alternated); the median is quoted. */
  readonly repeats: number;
  /** Measured seconds per load run. */
  readonly durationSec: number;
  /** Unmeasured load before a server's first run (JIT, caches, connection pools). */
  readonly warmupSec: number;
  /** Fixed Check rates for parts 1 and 2 (requests/s); saturation is always added. */
  readonly checkRates: readonly number[];
  /** Requests in flight in a closed-loop saturation run. */
  readonly saturationConcurrency: number;
  /** Distinct tokens in the fresh and invalid pools; above both servers' 10,000-entry caches. */
  readonly tokenPoolSize: number;
  /** Tenants added to the ACL table (4 rules each). */
  readonly aclTenants: number;
  /** Fixed HTTP rates through Envoy for part 3 (requests/s). */
  readonly envoyRates: readonly number[];
  /** Connections the HTTP load generator keeps open. */
  readonly httpConnections: number;
  /** Idle sessions part 5 opens, step by step. */
  readonly sessionSteps: readonly number[];
}

/**
 * `durationSec` shortens every load run (and its warm-up) to that many seconds: a smoke run
 * that proves each part works end to end, not a measurement.
 */
export function benchSettings(
  quick: boolean,
  repeats?: number,
  loadgen: BenchSettings['loadgen'] = 'grpc-load',
  durationSec?: number,
): BenchSettings {
  const chosen = chooseSettings(quick, repeats, loadgen);
  return durationSec === undefined
    ? chosen
    : { ...chosen, durationSec, warmupSec: Math.min(chosen.warmupSec, durationSec) };
}

function chooseSettings(
  quick: boolean,
  repeats: number | undefined,
  loadgen: BenchSettings['loadgen'],
): BenchSettings {
  const common = {
    loadgen,
    saturationConcurrency: 64,
    tokenPoolSize: 12000,
    aclTenants: 250,
    httpConnections: 16,
  };
  return quick
    ? {
        ...common,
        mode: 'quick',
        repeats: repeats ?? 2,
        durationSec: 4,
        warmupSec: 3,
        checkRates: [1000, 5000],
        envoyRates: [500, 2000],
        sessionSteps: [50, 200],
      }
    : {
        ...common,
        mode: 'full',
        repeats: repeats ?? 3,
        durationSec: 10,
        warmupSec: 5,
        checkRates: [1000, 2500, 5000, 7500],
        envoyRates: [500, 1000, 2000],
        sessionSteps: [100, 1000, 10000],
      };
}
