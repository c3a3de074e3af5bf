import assert from 'node:assert/strict';
import { changedPaths, describeRevision } from './revision.ts';

describe('the revision a benchmark run records', () => {
  it('counts changed and untracked sources, but not the run’s own outputs', () => {
    const porcelain = [
      ' M src/authz/check.ts',
      '?? bench/harness/new-part.ts',
      'R  src/old.ts -> src/new.ts',
      '?? bench/results/20261130T120000Z.json',
      ' M BENCHMARKS.md',
      ' M bench/profiles/check-tail.md',
      '',
    ].join('\n');
    assert.deepEqual(changedPaths(porcelain), [
      'src/authz/check.ts',
      'bench/harness/new-part.ts',
      'src/new.ts',
    ]);
  });

  it('says so when a run went ahead on a changed tree', () => {
    assert.equal(describeRevision({ sha: 'abc', changed: [], dirty: false }), 'abc');
    assert.match(
      describeRevision({ sha: 'abc', changed: ['src/a.ts'], dirty: true }),
      /^abc with uncommitted changes \(--allow-dirty\): src\/a\.ts$/,
    );
  });
});
