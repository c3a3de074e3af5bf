import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';

/**
 * The metric names that the Grafana dashboard and the Prometheus rules query, and the
 * names Tollgate defines, so that a check can prove every query points at something.
 * Used by `make chart-test` (static: against src/metrics/metrics.ts) and by
 * test/integration/metrics-consistency.test.ts (live: against a real /metrics).
 *
 * Run directly: node deploy/tools/metric-names.ts check
 */

const IDENT = /[A-Za-z_:][A-Za-z0-9_:]*/y;

// PromQL words that look like identifiers but are not metric names.
const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'atan2',
  'inf',
  'nan',
  // Aggregation operators: their clause (`sum by (x) (...)`) may come before the parenthesis.
  'sum',
  'min',
  'max',
  'avg',
  'group',
  'stddev',
  'stdvar',
  'count',
  'count_values',
  'bottomk',
  'topk',
  'quantile',
  'limitk',
  'limit_ratio',
]);
// Followed by a parenthesised list of label names, not expressions.
const LABEL_LIST_KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);

/**
 * Metric names in one PromQL expression: identifiers that are neither functions,
 * keywords, label names (in {...} or grouping lists), strings nor durations.
 */
export function metricNamesInPromql(expr: string): Set<string> {
  const names = new Set<string>();
  let i = 0;
  let skipNextLabelList = false;
  while (i < expr.length) {
    const c = expr[i]!;
    if (c === '"' || c === "'" || c === '`') {
      i = skipString(expr, i);
      continue;
    }
    if (c === '{') {
      i = skipBalanced(expr, i, '{', '}');
      continue;
    }
    if (c === '[') {
      i = skipBalanced(expr, i, '[', ']');
      continue;
    }
    if (c === '#') {
      const end = expr.indexOf('\n', i);
      i = end === -1 ? expr.length : end;
      continue;
    }
    if (c === '(' && skipNextLabelList) {
      skipNextLabelList = false;
      i = skipBalanced(expr, i, '(', ')');
      continue;
    }
    if (/[0-9.]/.test(c)) {
      // Numbers and durations (5m, 1e3, 0.5): consume the whole literal.
      while (i < expr.length && /[0-9A-Za-z_.+-]/.test(expr[i]!) && !/[+-]/.test(expr[i]!)) i++;
      continue;
    }
    IDENT.lastIndex = i;
    const match = IDENT.exec(expr);
    if (!match) {
      i++;
      continue;
    }
    const word = match[0];
    i += word.length;
    let j = i;
    while (j < expr.length && /\s/.test(expr[j]!)) j++;
    const isCall = expr[j] === '(';
    const lower = word.toLowerCase();
    if (LABEL_LIST_KEYWORDS.has(lower)) {
      skipNextLabelList = true;
      continue;
    }
    if (KEYWORDS.has(lower) || isCall) continue;
    names.add(word);
  }
  return names;
}

function skipString(text: string, start: number): number {
  const quote = text[start]!;
  let i = start + 1;
  while (i < text.length && text[i] !== quote) i += text[i] === '\\' && quote !== '`' ? 2 : 1;
  return i + 1;
}

function skipBalanced(text: string, start: number, open: string, close: string): number {
  let depth = 0;
  let i = start;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"' || c === "'" || c === '`') {
      i = skipString(text, i);
      continue;
    }
    if (c === open) depth++;
    else if (c === close && --depth === 0) return i + 1;
    i++;
  }
  return i;
}

/** Every PromQL expression of a Grafana dashboard: panel targets and query variables. */
export function dashboardExpressions(dashboard: unknown): string[] {
  const exprs: string[] = [];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      node.forEach(visit);
      return;
    }
    if (typeof node !== 'object' || node === null) return;
    const record = node as Record<string, unknown>;
    if (typeof record.expr === 'string') exprs.push(record.expr);
    for (const value of Object.values(record)) visit(value);
  };
  const root = dashboard as { panels?: unknown; templating?: { list?: Array<Record<string, unknown>> } };
  visit(root.panels);
  for (const variable of root.templating?.list ?? []) {
    if (variable.type !== 'query') continue;
    const query = variable.query;
    const text = typeof query === 'string' ? query : (query as { query?: string } | undefined)?.query;
    if (!text) continue;
    // Grafana's label_values(metric{...}, label): only the first argument is PromQL.
    const labelValues = /^\s*label_values\((.*),\s*[A-Za-z_][A-Za-z0-9_]*\s*\)\s*$/s.exec(text);
    const queryResult = /^\s*query_result\((.*)\)\s*$/s.exec(text);
    exprs.push(labelValues?.[1] ?? queryResult?.[1] ?? text);
  }
  return exprs;
}

/** Every `expr` of a Prometheus rule file ({groups: [{rules: [{expr}]}]}). */
export function ruleExpressions(rules: unknown): string[] {
  const groups = (rules as { groups?: Array<{ rules?: Array<{ expr?: unknown }> }> }).groups ?? [];
  return groups.flatMap((group) =>
    (group.rules ?? []).flatMap((rule) => (typeof rule.expr === 'string' ? [rule.expr] : [])),
  );
}

/** The names given to prom-client in src/metrics/metrics.ts (`name: 'tollgate_...'`). */
export function metricNamesInSource(source: string): Set<string> {
  return new Set([...source.matchAll(/\bname:\s*'(tollgate_[a-z0-9_]+)'/g)].map((m) => m[1]!));
}

/** Histogram series a histogram metric named `base` exposes. */
export const HISTOGRAM_SUFFIXES = ['_bucket', '_sum', '_count'] as const;

/**
 * Metrics that exist without being named in metrics.ts: prom-client's default process and
 * Node.js metrics (registered with the tollgate_ prefix), Envoy's own stats, and
 * Prometheus' `up`.
 */
export function isPlatformMetric(name: string): boolean {
  return (
    name === 'up' ||
    name.startsWith('envoy_') ||
    name.startsWith('tollgate_process_') ||
    name.startsWith('tollgate_nodejs_')
  );
}

export interface QueriedMetrics {
  /** metric name -> the files that query it */
  readonly names: Map<string, string[]>;
}

/** Metric names queried by the dashboard and the rule file, with where each is used. */
export function queriedMetrics(dashboardPath: string, rulesPath: string): QueriedMetrics {
  const names = new Map<string, string[]>();
  const add = (file: string, exprs: string[]) => {
    for (const expr of exprs)
      for (const name of metricNamesInPromql(expr)) {
        const files = names.get(name) ?? [];
        if (!files.includes(file)) files.push(file);
        names.set(name, files);
      }
  };
  add(dashboardPath, dashboardExpressions(JSON.parse(readFileSync(dashboardPath, 'utf8'))));
  add(rulesPath, ruleExpressions(parseYaml(readFileSync(rulesPath, 'utf8'))));
  return { names };
}

/** True when `name` is a defined metric, or a histogram series of one. */
export function isDefined(name: string, defined: ReadonlySet<string>): boolean {
  if (defined.has(name)) return true;
  return HISTOGRAM_SUFFIXES.some(
    (suffix) => name.endsWith(suffix) && defined.has(name.slice(0, -suffix.length)),
  );
}

function main(argv: string[]): number {
  const [
    command,
    dashboard = 'deploy/grafana/tollgate-dashboard.json',
    rules = 'deploy/prometheus/alerts.yaml',
  ] = argv;
  if (command !== 'check' && command !== 'list') {
    process.stderr.write(
      'usage: node deploy/tools/metric-names.ts check|list [dashboard.json] [rules.yaml]\n',
    );
    return 2;
  }
  const defined = metricNamesInSource(readFileSync('src/metrics/metrics.ts', 'utf8'));
  const { names } = queriedMetrics(dashboard, rules);
  if (command === 'list') {
    for (const name of [...names.keys()].sort()) process.stdout.write(`${name}\n`);
    return 0;
  }
  const unknown = [...names].filter(([name]) => !isDefined(name, defined) && !isPlatformMetric(name));
  if (defined.size === 0) {
    process.stderr.write('metric-names: found no metric names in src/metrics/metrics.ts\n');
    return 1;
  }
  for (const [name, files] of unknown)
    process.stderr.write(
      `metric-names: ${name} (used in ${files.join(', ')}) is neither in src/metrics/metrics.ts nor an Envoy/process metric\n`,
    );
  if (unknown.length > 0) return 1;
  process.stdout.write(
    `metric names ok: ${names.size} queried by the dashboard and the alert rules, all defined\n`,
  );
  return 0;
}

if (import.meta.main) process.exitCode = main(process.argv.slice(2));
