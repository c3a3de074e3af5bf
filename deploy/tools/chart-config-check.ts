import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { parseConfig } from '../../src/config/load.ts';

/**
 * Keeps the chart's `config:` values a mirror of Tollgate's config schema:
 *  - every setting the schema has is in values.yaml (so it is documented there) and in
 *    values.schema.json (so a wrong value is refused at install), and nothing else is;
 *  - each default in values.yaml equals the schema's default, except the few the chart
 *    sets on purpose (listed below with the reason).
 * Run by `make chart-test`: node deploy/tools/chart-config-check.ts
 */

const VALUES = 'charts/tollgate/values.yaml';
const VALUES_SCHEMA = 'charts/tollgate/values.schema.json';

// Defaults the chart chooses differently from a bare Tollgate, and why.
const CHART_DEFAULTS: Record<string, string> = {
  issuers: 'an example issuer to replace (a bare Tollgate has none)',
  'acl.file': 'its own directory, because the ConfigMap is mounted as a whole directory',
  'kafka.brokers': 'an in-cluster bootstrap address instead of 127.0.0.1:9092',
  'kafka.caFile': 'empty: filled in from kafkaCaSecret',
  'kafka.serviceAccount': 'empty: none unless set',
  'authz.httpListen': 'all addresses: the kubelet probes /healthz there (a bare Tollgate: loopback)',
  'shutdown.drainDelayMs': 'serve through the Envoy sidecar\'s drain (envoy.drainTimeSec + 1 s) at SIGTERM',
  'shutdown.envoyAdminUrl': 'empty: filled in with the sidecar\'s admin address when envoy.enabled',
};

type Tree = Record<string, unknown>;

const isObject = (value: unknown): value is Tree =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Dotted paths of the leaves of a config object (arrays and the issuers list are leaves). */
function leafPaths(tree: Tree, prefix = ''): string[] {
  return Object.entries(tree).flatMap(([key, value]) => {
    const path = prefix ? `${prefix}.${key}` : key;
    return isObject(value) && path !== 'kafka.serviceAccount' ? leafPaths(value, path) : [path];
  });
}

function valueAt(tree: Tree, path: string): unknown {
  return path.split('.').reduce<unknown>((node, key) => (isObject(node) ? node[key] : undefined), tree);
}

/** Paths of the properties a JSON schema declares, following nested objects. */
function schemaPaths(schema: Tree, prefix = ''): string[] {
  const props = isObject(schema.properties) ? schema.properties : {};
  return Object.entries(props).flatMap(([key, sub]) => {
    const path = prefix ? `${prefix}.${key}` : key;
    return isObject(sub) && isObject(sub.properties) && path !== 'issuers'
      ? [path, ...schemaPaths(sub, path)]
      : [path];
  });
}

function main(): number {
  const problems: string[] = [];
  const values = parseYaml(readFileSync(VALUES, 'utf8')) as Tree;
  const chartConfig = values.config as Tree;

  // The schema's own defaults: parse a config that sets only what has no default.
  const issuer = { issuer: 'https://idp.example.com', audiences: ['kafka'] };
  const defaults = parseConfig({ issuers: [issuer] }) as unknown as Tree;
  const schemaLeaves = new Set([...leafPaths(defaults), ...Object.keys(CHART_DEFAULTS)]);
  const chartLeaves = new Set(leafPaths(chartConfig));

  for (const path of schemaLeaves)
    if (!chartLeaves.has(path))
      problems.push(
        `${VALUES}: config.${path} is missing (src/config/schema.ts has it); add it with a comment`,
      );
  for (const path of chartLeaves)
    if (!schemaLeaves.has(path)) problems.push(`${VALUES}: config.${path} is not a Tollgate setting`);

  for (const path of schemaLeaves) {
    if (path in CHART_DEFAULTS || !chartLeaves.has(path)) continue;
    const want = JSON.stringify(valueAt(defaults, path));
    const got = JSON.stringify(valueAt(chartConfig, path));
    if (want !== got)
      problems.push(
        `${VALUES}: config.${path} defaults to ${got}, Tollgate's default is ${want}; keep them equal`,
      );
  }

  // The chart's config with its defaults must be a valid Tollgate config (the example issuer included).
  try {
    parseConfig(stripEmpty(chartConfig));
  } catch (err) {
    problems.push(`${VALUES}: config is rejected by Tollgate: ${(err as Error).message}`);
  }

  const schema = JSON.parse(readFileSync(VALUES_SCHEMA, 'utf8')) as Tree;
  const configSchema = (schema.properties as Tree).config as Tree;
  const declared = new Set(schemaPaths(configSchema));
  for (const path of schemaLeaves)
    if (!declared.has(path)) problems.push(`${VALUES_SCHEMA}: config.${path} is not declared`);
  // Issuer keys with a default (the optional ones have none to compare).
  const firstIssuer = (defaults.issuers as Tree[])[0] ?? {};
  for (const key of Object.keys(firstIssuer))
    if (!issuerSchemaHas(configSchema, key))
      problems.push(`${VALUES_SCHEMA}: config.issuers[].${key} is not declared`);

  for (const problem of problems) process.stderr.write(`chart-config-check: ${problem}\n`);
  if (problems.length > 0) return 1;
  process.stdout.write(
    `chart config ok: ${schemaLeaves.size} settings mirrored in values.yaml and values.schema.json\n`,
  );
  return 0;
}

function issuerSchemaHas(configSchema: Tree, key: string): boolean {
  const issuers = (configSchema.properties as Tree).issuers as Tree;
  const items = isObject(issuers.items) ? issuers.items : {};
  return isObject(items.properties) && key in items.properties;
}

/** The chart leaves empty optional values out of the file it renders; do the same here. */
function stripEmpty(config: Tree): Tree {
  const copy = structuredClone(config);
  const kafka = copy.kafka as Tree;
  if (!kafka.caFile) delete kafka.caFile;
  if (isObject(kafka.serviceAccount) && Object.keys(kafka.serviceAccount).length === 0)
    delete kafka.serviceAccount;
  const shutdown = copy.shutdown as Tree | undefined;
  if (shutdown && !shutdown.envoyAdminUrl) delete shutdown.envoyAdminUrl;
  return copy;
}

process.exitCode = main();
