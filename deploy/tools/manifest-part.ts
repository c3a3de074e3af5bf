import { readFileSync } from 'node:fs';
import { parseAllDocuments, stringify } from 'yaml';

/**
 * Pulls one part out of `helm template` output, so the checks can hand it to the
 * tool that understands it (envoy --mode validate, promtool check rules).
 *
 *   node deploy/tools/manifest-part.ts configmap-data <rendered.yaml> <name-suffix> <key>
 *       the text of data.<key> of the ConfigMap whose name ends with <name-suffix>
 *   node deploy/tools/manifest-part.ts rule-groups <rendered.yaml> [header-file]
 *       spec of the PrometheusRule as a plain rule file, after the header file's text
 *
 * Exits 1 with one line when the part is not there.
 */

type Manifest = {
  kind?: string;
  metadata?: { name?: string };
  data?: Record<string, string>;
  spec?: unknown;
};

function manifests(path: string): Manifest[] {
  return parseAllDocuments(readFileSync(path, 'utf8'))
    .map((doc) => doc.toJS() as Manifest | null)
    .filter((m): m is Manifest => m !== null && typeof m === 'object');
}

function fail(message: string): never {
  process.stderr.write(`manifest-part: ${message}\n`);
  process.exit(1);
}

const [command, file, ...rest] = process.argv.slice(2);
if (!file) fail('usage: manifest-part.ts configmap-data|rule-groups <rendered.yaml> ...');

if (command === 'configmap-data') {
  const [suffix, key] = rest;
  if (!suffix || !key) fail('configmap-data needs <name-suffix> <key>');
  const map = manifests(file).find((m) => m.kind === 'ConfigMap' && m.metadata?.name?.endsWith(suffix));
  const text = map?.data?.[key];
  if (text === undefined) fail(`${file}: no ConfigMap *${suffix} with data.${key}`);
  process.stdout.write(text);
} else if (command === 'rule-groups') {
  const rule = manifests(file).find((m) => m.kind === 'PrometheusRule');
  if (!rule?.spec) fail(`${file}: no PrometheusRule with a spec`);
  const header = rest[0] ? readFileSync(rest[0], 'utf8') : '';
  process.stdout.write(header + stringify(rule.spec, { lineWidth: 0 }));
} else {
  fail(`unknown command ${command ?? '(none)'}: expected configmap-data or rule-groups`);
}
