import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { HISTOGRAM_SUFFIXES, queriedMetrics } from '../../deploy/tools/metric-names.ts';
import { stackValue } from './stack-env.ts';

// Dashboards and alerts must never point at nothing: every metric that
// deploy/grafana/tollgate-dashboard.json and deploy/prometheus/alerts.yaml query has to be
// exported by the running Tollgate (tollgate_*) or its Envoy (envoy_*), and the exposition
// has to be clean for Prometheus (promtool check metrics). `make chart-test` checks the
// names against src/metrics/metrics.ts statically; this checks them against the real thing.

const DASHBOARD = 'deploy/grafana/tollgate-dashboard.json';
const RULES = 'deploy/prometheus/alerts.yaml';
// The repo's own promtool (`make prometheus-deps`, a prerequisite of test-integration),
// never whichever one is on PATH: a fresh machine has none.
const PROMTOOL = fileURLToPath(new URL('../../.tools/bin/promtool', import.meta.url));

/** Metric families declared in a text exposition (`# TYPE name type`), name -> type. */
function families(exposition: string): Map<string, string> {
  const declared = new Map<string, string>();
  for (const line of exposition.split('\n')) {
    const match = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (match) declared.set(match[1]!, match[2]!);
  }
  return declared;
}

/**
 * Why `name` is not in the exposition, or null when it is. A family counts even before its
 * first sample (labelled series appear with traffic); a histogram's series names carry
 * _bucket, _sum and _count after the family name.
 */
function missing(name: string, declared: Map<string, string>): string | null {
  if (declared.has(name)) return null;
  for (const suffix of HISTOGRAM_SUFFIXES) {
    if (!name.endsWith(suffix)) continue;
    const family = name.slice(0, -suffix.length);
    const type = declared.get(family);
    if (type === 'histogram') return null;
    if (type !== undefined) return `${family} is a ${type}, not a histogram`;
  }
  return 'not exported';
}

async function scrape(url: string): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  assert.equal(res.status, 200, `GET ${url} answered ${res.status}`);
  return res.text();
}

function queried(prefix: string): Map<string, string[]> {
  const { names } = queriedMetrics(DASHBOARD, RULES);
  return new Map([...names].filter(([name]) => name.startsWith(prefix)));
}

describe('metrics named by the dashboard and the alert rules', () => {
  let tollgate = '';

  before(async () => {
    tollgate = await scrape(`${stackValue('METRICS_URL')}/metrics`);
  });

  it('finds every tollgate_* metric they query in Tollgate’s /metrics', () => {
    const names = queried('tollgate_');
    assert.ok(
      names.size > 10,
      `expected the dashboard and rules to query tollgate_* metrics, found ${names.size}`,
    );
    const declared = families(tollgate);
    const problems = [...names].flatMap(([name, files]) => {
      const why = missing(name, declared);
      return why ? [`${name} (${files.join(', ')}): ${why}`] : [];
    });
    assert.deepEqual(problems, [], `queried but not in ${stackValue('METRICS_URL')}/metrics`);
  });

  it('finds every envoy_* metric they query in the sidecar’s /stats/prometheus', async () => {
    const names = queried('envoy_');
    const declared = families(await scrape(`${stackValue('ENVOY_ADMIN_URL')}/stats/prometheus`));
    const problems = [...names].flatMap(([name, files]) => {
      const why = missing(name, declared);
      return why ? [`${name} (${files.join(', ')}): ${why}`] : [];
    });
    assert.deepEqual(problems, [], 'queried but not in Envoy’s stats');
  });

  it('has an exposition that promtool check metrics accepts', () => {
    const result = spawnSync(PROMTOOL, ['check', 'metrics'], { input: tollgate, encoding: 'utf8' });
    if (result.error) {
      const code = (result.error as NodeJS.ErrnoException).code;
      assert.fail(
        code === 'ENOENT'
          ? '.tools/bin/promtool is missing: run make prometheus-deps (deploy/tools/install-promtool.sh)'
          : `promtool could not run: ${result.error.message}`,
      );
    }
    // Exit 1: not parseable; exit 3: lint problems (one per line on stdout/stderr).
    const report = `${result.stdout}${result.stderr}`.trim();
    assert.equal(result.status, 0, `promtool check metrics (exit ${result.status}):\n${report}`);
  });
});
