import assert from 'node:assert/strict';
import { errorsCell, spreadCell } from '../report/markdown.ts';
import { countFailedRuns, type LoadResult, medianOf, spreadOf } from './load-result.ts';

function run(rps: number, p99Ms: number, errors: number): LoadResult {
  return {
    targetRps: 7500,
    rps,
    requests: rps * 10,
    errors,
    p50Ms: 0.5,
    p99Ms,
    p999Ms: p99Ms * 2,
    maxMs: p99Ms * 3,
  };
}

describe('aggregating the repeats of a point', () => {
  // bench/results/20261128T135320Z.json: one of three runs at 7,500/s had 38,620 failed calls,
  // and the table said "errors 0" because each column took its median on its own.
  const runs = [run(7480, 1.2, 0), run(3178, 4750, 38620), run(7490, 1.1, 0)];

  it('shows a point with one failed run as failed, whatever the other runs say', () => {
    assert.equal(countFailedRuns(runs), 1);
    assert.match(errorsCell(runs), /^\*\*failed\*\*: 1 of 3 runs, up to 38,620 errors$/);
  });

  it('keeps the worst run’s errors in the summary instead of a median of 0', () => {
    const summary = medianOf(runs);
    assert.equal(summary.errors, 38620);
    assert.equal(summary.failedRuns, 1);
  });

  it('shows 0 errors only when every run was clean', () => {
    const clean = [run(7480, 1.2, 0), run(7490, 1.1, 0)];
    assert.equal(errorsCell(clean), '0');
    assert.equal(medianOf(clean).errors, 0);
    assert.equal(medianOf(clean).failedRuns, 0);
  });

  it('counts a run whose error count is missing (NaN) as failed', () => {
    assert.equal(countFailedRuns([run(1, 1, Number.NaN)]), 1);
  });

  it('gives min, median and max of each figure', () => {
    assert.deepEqual(spreadOf(runs.map((r) => r.p99Ms)), { min: 1.1, median: 1.2, max: 4750 });
    assert.equal(
      spreadCell(
        runs.map((r) => r.p99Ms),
        (v) => v.toFixed(1),
      ),
      '1.1 / 1.2 / 4750.0',
    );
  });

  it('shows one value when the runs agree, and a dash when nothing was measured', () => {
    assert.equal(spreadCell([2, 2], String), '2');
    assert.equal(spreadCell([], String), '–');
    assert.equal(errorsCell([]), '–');
  });
});
