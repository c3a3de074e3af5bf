import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { type Config, configSchema } from './schema.ts';

/** Every problem found in a configuration, each naming the field. */
export class ConfigError extends Error {
  readonly problems: readonly string[];

  constructor(problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Scalar settings that the environment may override: TOLLGATE_ + the config path in
 * SCREAMING_SNAKE (`sessions.idleTimeoutSec` -> TOLLGATE_SESSIONS_IDLE_TIMEOUT_SEC).
 * Issuers are structured and come from the file only.
 */
const ENV_OVERRIDES: ReadonlyArray<readonly [string, 'string' | 'number' | 'boolean' | 'list']> = [
  ['mode', 'string'],
  ['authorization', 'boolean'],
  ['jwt.clockSkewSec', 'number'],
  ['jwt.maxTokenBytes', 'number'],
  ['jwt.cacheMaxEntries', 'number'],
  ['jwt.jwksTimeoutMs', 'number'],
  ['jwt.jwksCooldownSec', 'number'],
  ['jwt.jwksRefreshSec', 'number'],
  ['acl.file', 'string'],
  ['acl.reloadCheckMs', 'number'],
  ['authz.grpcListen', 'string'],
  ['authz.httpListen', 'string'],
  ['authz.principalHeader', 'string'],
  ['authz.logAllows', 'boolean'],
  ['metrics.listen', 'string'],
  ['rest.listen', 'string'],
  ['rest.baseUri', 'string'],
  ['rest.bodyLimitBytes', 'number'],
  ['rest.consumerRequestTimeoutMs', 'number'],
  ['rest.consumerRequestMaxBytes', 'number'],
  ['rest.consumerBufferMaxBytes', 'number'],
  ['rest.metadataMaxAgeMs', 'number'],
  ['rest.shutdownTimeoutMs', 'number'],
  ['http.headersTimeoutMs', 'number'],
  ['http.requestTimeoutMs', 'number'],
  ['http.keepAliveTimeoutMs', 'number'],
  ['shutdown.drainDelayMs', 'number'],
  ['shutdown.envoyAdminUrl', 'string'],
  ['kafka.brokers', 'list'],
  ['kafka.clientId', 'string'],
  ['kafka.ssl', 'boolean'],
  ['kafka.caFile', 'string'],
  ['kafka.connectionTimeoutMs', 'number'],
  ['kafka.requestTimeoutMs', 'number'],
  ['schemaRegistry.url', 'string'],
  ['schemaRegistry.username', 'string'],
  ['schemaRegistry.passwordFile', 'string'],
  ['schemaRegistry.forwardBearer', 'boolean'],
  ['schemaRegistry.timeoutMs', 'number'],
  ['schemaRegistry.nameStrategy', 'string'],
  ['schemaRegistry.nameStrategyValidation', 'boolean'],
  ['sessions.sweepIntervalSec', 'number'],
  ['sessions.idleTimeoutSec', 'number'],
  ['sessions.consumerIdleTimeoutSec', 'number'],
  ['sessions.expiryMarginSec', 'number'],
  ['sessions.maxSessions', 'number'],
  ['sessions.maxConsumersPerPrincipal', 'number'],
  ['log.level', 'string'],
];

export function envNameFor(path: string): string {
  return `TOLLGATE_${path
    .replace(/\./g, '_')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toUpperCase()}`;
}

function applyEnvOverrides(raw: Record<string, unknown>, env: Env, problems: string[]): void {
  for (const [path, kind] of ENV_OVERRIDES) {
    const name = envNameFor(path);
    const text = env[name];
    if (text === undefined) continue;
    let value: unknown = text;
    if (kind === 'number') {
      value = Number(text);
      if (text.trim() === '' || !Number.isFinite(value)) {
        problems.push(`${name}: expected a number, got ${JSON.stringify(text)}`);
        continue;
      }
    } else if (kind === 'boolean') {
      if (text !== 'true' && text !== 'false') {
        problems.push(`${name}: expected true or false, got ${JSON.stringify(text)}`);
        continue;
      }
      value = text === 'true';
    } else if (kind === 'list') {
      value = text
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
    }
    const keys = path.split('.');
    let node = raw;
    for (const key of keys.slice(0, -1)) {
      const child = node[key];
      if (typeof child !== 'object' || child === null) node[key] = {};
      node = node[key] as Record<string, unknown>;
    }
    node[keys.at(-1)!] = value;
  }
}

function formatIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const path = issue.path.length === 0 ? '(file)' : issue.path.join('.');
    return `${path}: ${issue.message}`;
  });
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/** Parses and validates a config object plus env overrides; throws ConfigError listing every problem. */
export function parseConfig(raw: unknown, env: Env = {}): Config {
  const problems: string[] = [];
  if (raw === null || raw === undefined) raw = {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(['(file): expected a YAML mapping at the top level']);
  }
  const copy = structuredClone(raw) as Record<string, unknown>;
  applyEnvOverrides(copy, env, problems);
  const result = configSchema.safeParse(copy);
  if (!result.success) problems.push(...formatIssues(result.error));
  if (problems.length > 0 || !result.success) throw new ConfigError(problems);
  const config = result.data;
  crossCheck(config, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return deepFreeze(config);
}

function crossCheck(config: Config, problems: string[]): void {
  const account = config.kafka.serviceAccount;
  if (!config.authorization || account) {
    if (!config.authorization && !account) {
      problems.push('kafka.serviceAccount: required when authorization is false (the shared Kafka identity)');
    } else if (account?.mechanism === 'oauthbearer' && (!account.tokenUrl || !account.clientId)) {
      problems.push('kafka.serviceAccount: oauthbearer needs tokenUrl, clientId and clientSecretFile');
    } else if (account && account.mechanism !== 'oauthbearer' && !account.username) {
      problems.push(`kafka.serviceAccount: ${account.mechanism} needs username and passwordFile`);
    }
  }
  if (config.rest.consumerBufferMaxBytes < 1024) {
    problems.push('rest.consumerBufferMaxBytes: expected at least 1024');
  }
}

/** Reads the YAML file at `path` (if given), applies TOLLGATE_* env overrides and validates. */
export function loadConfig(path: string | undefined, env: Env = process.env): Config {
  let raw: unknown = {};
  if (path) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new ConfigError([`${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'})`]);
    }
    try {
      raw = parseYaml(text);
    } catch (err) {
      throw new ConfigError([`${path}: not valid YAML (${(err as Error).message.split('\n')[0]})`]);
    }
  }
  return parseConfig(raw, env);
}

/** The config file named by `--config`, else by TOLLGATE_CONFIG; undefined means defaults only. */
export function configPath(flag: string | undefined, env: Env = process.env): string | undefined {
  return flag ?? env.TOLLGATE_CONFIG ?? undefined;
}
