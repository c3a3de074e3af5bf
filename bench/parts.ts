import type { BenchPart } from './harness/results.ts';
import { checkIsolation } from './parts/check-isolation.ts';
import { checkScale } from './parts/check-scale.ts';
import { checkVsOpa } from './parts/check-vs-opa.ts';
import { karapacePeer } from './parts/karapace-peer.ts';
import { overload } from './parts/overload.ts';
import { restDataPath } from './parts/rest-data-path.ts';
import { sessionsAtScale } from './parts/sessions-at-scale.ts';
import { throughEnvoy } from './parts/through-envoy.ts';
import { verifyRate } from './parts/verify-rate.ts';

/**
 * Every benchmark part, in the order `make bench` runs them and BENCHMARKS.md shows them.
 * A new part is a file in parts/ exporting a BenchPart, and one line here.
 */
export const PARTS: readonly BenchPart[] = [
  checkIsolation,
  checkVsOpa,
  checkScale,
  overload,
  throughEnvoy,
  restDataPath,
  sessionsAtScale,
  verifyRate,
  karapacePeer,
];
