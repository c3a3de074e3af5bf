import { appendFileSync } from 'node:fs';
import { type PerformanceEntry, PerformanceObserver, performance } from 'node:perf_hooks';

/**
 * Loaded into a server with `node --import` for a tail profile (bench/tail-profile.ts), never
 * into a measured run: appends to $TAIL_TRACE_FILE one CSV line per garbage collection and per
 * event-loop stall, with wall-clock start times, so the slowest calls of a load run can be laid
 * over what the server's one JavaScript thread was doing.
 *  - `gc,<start µs since the epoch>,<duration µs>,<kind>` from perf_hooks' GC entries;
 *  - `stall,<start µs>,<duration µs>,` when a 1 ms interval timer fired more than STALL_MS late:
 *    the thread was busy (or not scheduled) for that long. A GC pause shows as both.
 * The 1 ms timer costs ~1,000 wake-ups a second; that is why this is for profiles only
 * (TAIL_TRACE_STALLS=0 leaves it out and traces the GCs alone).
 */

const file = process.env.TAIL_TRACE_FILE;
const STALL_MS = 2;
const KIND: Record<number, string> = { 1: 'minor', 2: 'major', 4: 'incremental', 8: 'weakcb' };

function epochUs(performanceMs: number): number {
  return Math.round((performance.timeOrigin + performanceMs) * 1000);
}

if (file) {
  appendFileSync(file, `start,${epochUs(performance.now())},0,\n`);
  new PerformanceObserver((list) => {
    let lines = '';
    for (const entry of list.getEntries()) {
      const detail = (entry as PerformanceEntry & { detail?: { kind?: number } }).detail;
      const kind = KIND[detail?.kind ?? 0] ?? 'other';
      lines += `gc,${epochUs(entry.startTime)},${Math.round(entry.duration * 1000)},${kind}\n`;
    }
    appendFileSync(file, lines);
  }).observe({ entryTypes: ['gc'] });
  let last = performance.now();
  if (process.env.TAIL_TRACE_STALLS !== '0')
    setInterval(() => {
      const now = performance.now();
      const late = now - last - 1;
      if (late > STALL_MS) appendFileSync(file, `stall,${epochUs(last + 1)},${Math.round(late * 1000)},\n`);
      last = now;
    }, 1).unref();
}
