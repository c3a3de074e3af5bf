import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { freePorts } from './ports.ts';
import { answers200, type ServerProcess, startProcess, waitUntil } from './processes.ts';
import { AUDIENCE } from './token-fixture.ts';

/**
 * `tollgate authz` as shipped: bin/tollgate.js with the image's Node flags (deploy/node-flags)
 * and a generated configuration that sets only what a benchmark must (ports, the benchmark's
 * issuer and ACL file); everything else keeps the defaults the image and the chart run with:
 * allows are not logged, denials are.
 */

export const REPO_ROOT = join(import.meta.dirname, '..', '..');

/** The flags of deploy/node-flags: one per line, `#` comments and blank lines skipped. */
export function parseNodeFlags(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

/** Node flags Tollgate runs with everywhere (image, stack, benchmarks). */
export function tollgateNodeFlags(): string[] {
  return parseNodeFlags(readFileSync(join(REPO_ROOT, 'deploy', 'node-flags'), 'utf8'));
}

/**
 * The argument list every benchmark starts Tollgate with: the shipped flags, then any extra
 * (profiling) flags, then bin/tollgate.js as the image's ENTRYPOINT runs it.
 */
export function tollgateArgs(
  command: 'authz' | 'serve',
  configFile: string,
  extraNodeArgs: readonly string[] = [],
): string[] {
  return [
    ...tollgateNodeFlags(),
    ...extraNodeArgs,
    join(REPO_ROOT, 'bin', 'tollgate.js'),
    command,
    '-c',
    configFile,
  ];
}

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
    acl: { file: options.aclFile },
    authz: {
      grpcListen: `127.0.0.1:${ports.grpc}`,
      httpListen: `127.0.0.1:${ports.http}`,
    },
    metrics: { listen: `127.0.0.1:${ports.metrics}` },
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
    args: tollgateArgs(command, configFile, options.nodeArgs),
    cpu: options.cpu,
    logFile: join(options.dir, `${options.name}.log`),
    cwd: options.dir,
  });
  try {
    // Generous: with part 6's 30,000-rule ACL file on a busy 2-core machine, 20 s was too short.
    await waitUntil(
      `${options.name} /readyz`,
      () => answers200(`http://127.0.0.1:${httpPort}/readyz`),
      180000,
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
