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
