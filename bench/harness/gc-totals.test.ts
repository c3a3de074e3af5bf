import assert from 'node:assert/strict';
import { parseGcTotals } from './gc-totals.ts';

const exposition = [
  '# TYPE tollgate_nodejs_gc_duration_seconds histogram',
  'tollgate_nodejs_gc_duration_seconds_bucket{le="0.001",kind="minor"} 40',
  'tollgate_nodejs_gc_duration_seconds_bucket{le="0.01",kind="minor"} 48',
  'tollgate_nodejs_gc_duration_seconds_bucket{le="+Inf",kind="minor"} 50',
  'tollgate_nodejs_gc_duration_seconds_sum{kind="minor"} 0.25',
  'tollgate_nodejs_gc_duration_seconds_count{kind="minor"} 50',
  'tollgate_nodejs_gc_duration_seconds_bucket{le="0.001",kind="major"} 0',
  'tollgate_nodejs_gc_duration_seconds_bucket{le="0.01",kind="major"} 1',
  'tollgate_nodejs_gc_duration_seconds_bucket{le="+Inf",kind="major"} 3',
  'tollgate_nodejs_gc_duration_seconds_sum{kind="major"} 0.5',
  'tollgate_nodejs_gc_duration_seconds_count{kind="major"} 3',
  'tollgate_nodejs_heap_size_used_bytes 1000',
].join('\n');

describe('bench: GC totals from the metrics exposition', () => {
  it('sums every kind and counts the pauses above 1 ms and 10 ms', () => {
    assert.deepEqual(parseGcTotals(exposition), { seconds: 0.75, pauses: 53, over1Ms: 13, over10Ms: 4 });
  });

  it('reads zeros when the process exports no GC histogram', () => {
    assert.deepEqual(parseGcTotals('tollgate_up 1\n'), { seconds: 0, pauses: 0, over1Ms: 0, over10Ms: 0 });
  });
});
