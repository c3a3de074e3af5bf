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
  const configFile = join(options.dir, `${options.name}.yaml`);
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
  writeFileSync(configFile, stringify(config));
  const proc = startProcess({
    name: options.name,
    command: process.execPath,
    args: [...(options.nodeArgs ?? []), join(REPO_ROOT, 'bin', 'tollgate.js'), 'authz', '-c', configFile],
    cpu: options.cpu,
    logFile: join(options.dir, `${options.name}.log`),
    cwd: options.dir,
  });
  try {
    await waitUntil(
      `${options.name} /readyz`,
      () => answers200(`http://127.0.0.1:${ports.http}/readyz`),
      20000,
      proc,
    );
  } catch (err) {
    await proc.stop();
    throw err;
  }
  const metricsUrl = `http://127.0.0.1:${ports.metrics}/metrics`;
  return {
    proc,
    grpcTarget: `127.0.0.1:${ports.grpc}`,
    metricsUrl,
    async counter(name, match) {
      const text = await (await fetch(metricsUrl)).text();
      let sum = 0;
      for (const line of text.split('\n')) {
        if (line.startsWith(`${name}{`) && line.includes(match)) sum += Number(line.split(' ').pop());
      }
      return sum;
    },
  };
}
