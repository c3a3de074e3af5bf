import { countFailedRuns, spreadOf } from '../harness/load-result.ts';

/** Markdown building blocks for the parts' BENCHMARKS.md sections. */

export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  const rule = headers.map((_, i) => (i === 0 ? '---' : '---:'));
  return [line(headers), line(rule), ...rows.map(line)].join('\n');
}

export function ms(value: number): string {
  if (!Number.isFinite(value)) return '–';
  return value < 10 ? value.toFixed(3) : value.toFixed(1);
}

export function rps(value: number): string {
  return Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : '–';
}

export function ratio(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(2)}×` : '–';
}

export function rateLabel(rate: number | null): string {
  return rate === null ? 'saturation' : `${rate.toLocaleString('en-US')}/s`;
}

export function verdict(met: boolean | null): string {
  return met === null ? 'not measured' : met ? '**met**' : '**missed**';
}

/**
 * One figure over the repeats of a point: `min / median / max`, or the value alone when there
 * was one run (or all runs agree).
 */
export function spreadCell(values: readonly number[], format: (value: number) => string): string {
  const s = spreadOf(values);
  if (!Number.isFinite(s.median)) return '–';
  const [min, mid, max] = [format(s.min), format(s.median), format(s.max)];
  return min === max ? mid : `${min} / ${mid} / ${max}`;
}

/**
 * The errors column of a point: `0` only when every run was clean; otherwise the point is
 * marked failed with how many runs had errors and the worst run's count.
 */
export function errorsCell(runs: readonly { readonly errors: number }[]): string {
  if (runs.length === 0) return '–';
  const failed = countFailedRuns(runs);
  if (failed === 0) return '0';
  const worst = Math.max(...runs.map((r) => r.errors));
  return `**failed**: ${failed} of ${runs.length} runs, up to ${worst.toLocaleString('en-US')} errors`;
}
