import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { freePorts } from './ports.ts';
import { answers200, type ServerProcess, startProcess, waitUntil } from './processes.ts';
import { AUDIENCE } from './token-fixture.ts';

/**
 * `tollgate authz` as shipped: bin/tollgate.js with a generated configuration (the local
 * stack's, with free ports and the benchmark's issuer and ACL file), run by the same Node.
 * Log level `warn`: allows are not logged (the default), denials are, as in production.
 */

export const REPO_ROOT = join(import.meta.dirname, '..', '..');

export interface TollgateAuthz {
  readonly proc: ServerProcess;
  readonly grpcTarget: string;
  readonly metricsUrl: string;
  /** Sum of a counter family's samples whose labels contain `match` (e.g. result="hit"). */
  counter(name: string, match: string): Promise<number>;
}

export interface TollgateOptions {
  readonly name: string;
  readonly dir: string;
  readonly issuerUrl: string;
  readonly aclFile: string;
  readonly cpu: string | null;
  /** Extra Node flags, e.g. --cpu-prof for a profile. */
  readonly nodeArgs?: readonly string[];
}

export async function startTollgateAuthz(options: TollgateOptions): Promise<TollgateAuthz> {
  const ports = await freePorts(['grpc', 'http', 'metrics'] as const);
  const config = {
    mode: 'enforce',
    authorization: true,
    issuers: [
      {
        issuer: options.issuerUrl,
        audiences: [AUDIENCE],
        algorithms: ['RS256', 'ES256'],
        principalClaim: 'sub',
        requiredType: 'at+jwt',
      },
    ],
    acl: { file: options.aclFile, reloadCheckMs: 60000 },
    authz: {
      grpcListen: `127.0.0.1:${ports.grpc}`,
      httpListen: `127.0.0.1:${ports.http}`,
      logAllows: false,
    },
    metrics: { listen: `127.0.0.1:${ports.metrics}` },
    log: { level: 'warn' },
  };
  const proc = await launchTollgate('authz', options, config, ports.http);
  const metricsUrl = `http://127.0.0.1:${ports.metrics}/metrics`;
  return {
    proc,
    grpcTarget: `127.0.0.1:${ports.grpc}`,
    metricsUrl,
    counter: (name, match) => sumMetric(metricsUrl, name, match),
  };
}

/**
 * Writes `config` next to the other scratch files and starts `tollgate <command>` with it, as
 * shipped (bin/tollgate.js on the same Node); resolves once /readyz answers on `httpPort`.
 */
export async function launchTollgate(
  command: 'authz' | 'serve',
  options: {
    readonly name: string;
    readonly dir: string;
    readonly cpu: string | null;
    readonly nodeArgs?: readonly string[];
  },
  config: object,
  httpPort: number,
): Promise<ServerProcess> {
  const configFile = join(options.dir, `${options.name}.yaml`);
  writeFileSync(configFile, stringify(config));
  const proc = startProcess({
    name: options.name,
    command: process.execPath,
    args: [...(options.nodeArgs ?? []), join(REPO_ROOT, 'bin', 'tollgate.js'), command, '-c', configFile],
    cpu: options.cpu,
    logFile: join(options.dir, `${options.name}.log`),
    cwd: options.dir,
  });
  try {
    await waitUntil(
      `${options.name} /readyz`,
      () => answers200(`http://127.0.0.1:${httpPort}/readyz`),
      20000,
      proc,
    );
  } catch (err) {
    await proc.stop();
    throw err;
  }
  return proc;
}

/** Sum of a metric family's samples (gauge or counter) whose line contains `match`, if given. */
export async function sumMetric(metricsUrl: string, name: string, match?: string): Promise<number> {
  const text = await (await fetch(metricsUrl)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    const inFamily =
      match === undefined
        ? line.startsWith(`${name} `) || line.startsWith(`${name}{`)
        : line.startsWith(`${name}{`) && line.includes(match);
    if (inFamily) sum += Number(line.split(' ').pop());
  }
  return sum;
}
