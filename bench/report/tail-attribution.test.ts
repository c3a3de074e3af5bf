import assert from 'node:assert/strict';
import { attributeTail, parseDump, parseTrace } from './tail-attribution.ts';

const START = 1_000_000_000;

/** 100 calls due 1 ms apart, 300 µs each, except the ones given. */
function dump(slow: Record<number, { latencyUs: number; lagUs?: number }>): string {
  const lines = ['due_us,lag_us,latency_us,ok'];
  for (let i = 0; i < 100; i++) {
    const s = slow[i];
    lines.push(`${i * 1000},${s?.lagUs ?? 20},${s?.latencyUs ?? 300},1`);
  }
  return `${lines.join('\n')}\n`;
}

describe('bench: tail attribution', () => {
  it('gives each call at or above the p99 the first cause that overlaps it', () => {
    // p99 of 100 calls is the 99th: calls 10 and 50 are the two slowest, both above it.
    const calls = parseDump(dump({ 10: { latencyUs: 9000 }, 50: { latencyUs: 8000 } }));
    const trace = parseTrace(
      [`start,${START},0,`, `gc,${START + 12_000},4000,minor`, `gc,${START + 70_000},200,minor`, ''].join(
        '\n',
      ),
    );
    const result = attributeTail(calls, START, trace);
    assert.equal(result.p99Us, 8000);
    assert.equal(result.slow, 2);
    // Call 10 runs 10-19 ms: the 4 ms GC at 12 ms is in it. Call 50 overlaps nothing.
    assert.deepEqual(result.byCause, { gc: 1, stall: 0, lag: 0, none: 1 });
    assert.equal(result.gcPausesOver1Ms, 1);
    assert.equal(result.longestGcUs, 4000);
  });

  it('counts a stall without a GC as a stall, and a late send as the generator lag', () => {
    const calls = parseDump(dump({ 10: { latencyUs: 9000 }, 50: { latencyUs: 8000, lagUs: 2500 } }));
    const trace = parseTrace(`stall,${START + 15_000},3000,\n`);
    const result = attributeTail(calls, START, trace);
    assert.deepEqual(result.byCause, { gc: 0, stall: 1, lag: 1, none: 0 });
    assert.equal(result.stalls, 1);
    assert.equal(result.longestStallUs, 3000);
  });

  it('without a server trace (grpc-go) only the send lag can explain a call', () => {
    const calls = parseDump(dump({ 10: { latencyUs: 9000, lagUs: 5000 }, 50: { latencyUs: 8000 } }));
    assert.deepEqual(attributeTail(calls, START, null).byCause, { gc: 0, stall: 0, lag: 1, none: 1 });
  });

  it('counts only the pauses and stalls within the run', () => {
    const calls = parseDump(dump({}));
    const trace = parseTrace(
      [
        `gc,${START - 50_000},9000,major`,
        `stall,${START - 50_000},9000,`,
        `gc,${START + 5_000},2000,minor`,
      ].join('\n'),
    );
    const result = attributeTail(calls, START, trace);
    assert.equal(result.gcPausesOver1Ms, 1);
    assert.equal(result.longestGcUs, 2000);
    assert.equal(result.stalls, 0);
  });

  it('leaves failed calls out of the percentiles', () => {
    const calls = parseDump(`due_us,lag_us,latency_us,ok\n0,10,100,1\n1000,10,99999,0\n2000,10,200,1\n`);
    const result = attributeTail(calls, START, null);
    assert.equal(result.calls, 2);
    assert.equal(result.p99Us, 200);
  });
});
