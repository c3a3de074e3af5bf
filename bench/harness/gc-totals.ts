/**
 * Garbage collection so far, from prom-client's `nodejs_gc_duration_seconds` histogram as
 * Tollgate (and the Node floor servers) export it: every kind summed. Read before and after a
 * load run, the difference says how much of the run the process spent collecting and how many
 * single pauses were long enough to set a tail latency.
 */

export interface GcTotals {
  readonly seconds: number;
  readonly pauses: number;
  /** Pauses longer than 1 ms and than 10 ms (the histogram's bucket bounds 0.001 and 0.01). */
  readonly over1Ms: number;
  readonly over10Ms: number;
}

const FAMILY = 'tollgate_nodejs_gc_duration_seconds';

function value(line: string): number {
  return Number(line.slice(line.lastIndexOf(' ') + 1));
}

/** Totals from a Prometheus text exposition; zeros when the family is absent. */
export function parseGcTotals(exposition: string): GcTotals {
  let seconds = 0;
  let pauses = 0;
  let atMost1Ms = 0;
  let atMost10Ms = 0;
  for (const line of exposition.split('\n')) {
    if (!line.startsWith(FAMILY)) continue;
    const rest = line.slice(FAMILY.length);
    if (rest.startsWith('_sum')) seconds += value(line);
    else if (rest.startsWith('_count')) pauses += value(line);
    else if (rest.startsWith('_bucket') && rest.includes('le="0.001"')) atMost1Ms += value(line);
    else if (rest.startsWith('_bucket') && rest.includes('le="0.01"')) atMost10Ms += value(line);
  }
  return { seconds, pauses, over1Ms: pauses - atMost1Ms, over10Ms: pauses - atMost10Ms };
}

export async function readGcTotals(metricsUrl: string): Promise<GcTotals> {
  return parseGcTotals(await (await fetch(metricsUrl)).text());
}
