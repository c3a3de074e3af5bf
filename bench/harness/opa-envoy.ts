import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { type AclTable, opaAclData } from './acl-fixture.ts';
import { freePorts } from './ports.ts';
import { answers200, type ServerProcess, startProcess, waitUntil } from './processes.ts';
import { AUDIENCE } from './token-fixture.ts';

/**
 * OPA with its Envoy ext_authz gRPC plugin, running bench/opa/policy.rego against data that
 * holds the issuer's JWKS and the same ACL table. Its io.jwt verification cache is switched on
 * with Tollgate's default size (10,000 entries): it is off by default, and a reader comparing
 * cached-token numbers should see OPA at its best configuration, not its default.
 * Decision logs stay off (OPA's default); telemetry is disabled (no traffic off the machine).
 */

export const POLICY = join(import.meta.dirname, '..', 'opa', 'policy.rego');

export interface OpaEnvoy {
  readonly proc: ServerProcess;
  readonly grpcTarget: string;
}

export interface OpaOptions {
  readonly bin: string;
  readonly name: string;
  readonly dir: string;
  readonly issuerUrl: string;
  readonly jwksJson: string;
  readonly acl: AclTable;
  readonly cpu: string | null;
  /** Entries of the io.jwt inter-query cache; 0 leaves it off (OPA's default). Default 10,000. */
  readonly jwtCacheEntries?: number;
}

/** The io.jwt cache size part 2's OPA runs with: Tollgate's default verified-token cache size. */
export const OPA_JWT_CACHE_ENTRIES = 10000;

/** The policy's data document (issuer, audience, JWKS, ACL table) as OPA reads it, at `file`. */
export function writeOpaData(
  file: string,
  options: Pick<OpaOptions, 'issuerUrl' | 'jwksJson' | 'acl'>,
): void {
  writeFileSync(
    file,
    JSON.stringify({
      tollgate: {
        issuer: options.issuerUrl,
        audience: AUDIENCE,
        jwks: options.jwksJson,
        acl: opaAclData(options.acl),
      },
    }),
  );
}

export async function startOpaEnvoy(options: OpaOptions): Promise<OpaEnvoy> {
  const ports = await freePorts(['grpc', 'http', 'diagnostic'] as const);
  const jwtCacheEntries = options.jwtCacheEntries ?? OPA_JWT_CACHE_ENTRIES;
  const configFile = join(options.dir, `${options.name}-config.yaml`);
  const dataFile = join(options.dir, `${options.name}-data.json`);
  writeFileSync(
    configFile,
    stringify({
      plugins: {
        envoy_ext_authz_grpc: {
          addr: `127.0.0.1:${ports.grpc}`,
          path: 'tollgate/authz/result',
          'dry-run': false,
          'enable-reflection': false,
          'skip-request-body-parse': true,
        },
      },
      ...(jwtCacheEntries > 0
        ? {
            caching: {
              inter_query_builtin_value_cache: { named: { io_jwt: { max_num_entries: jwtCacheEntries } } },
            },
          }
        : {}),
    }),
  );
  writeOpaData(dataFile, options);
  const proc = startProcess({
    name: options.name,
    command: options.bin,
    args: [
      'run',
      '--server',
      '--disable-telemetry',
      '--addr',
      `127.0.0.1:${ports.http}`,
      '--diagnostic-addr',
      `127.0.0.1:${ports.diagnostic}`,
      '--config-file',
      configFile,
      '--log-level',
      'error',
      POLICY,
      dataFile,
    ],
    cpu: options.cpu,
    logFile: join(options.dir, `${options.name}.log`),
  });
  try {
    await waitUntil(
      `${options.name} /health?plugins`,
      () => answers200(`http://127.0.0.1:${ports.http}/health?plugins`),
      20000,
      proc,
    );
  } catch (err) {
    await proc.stop();
    throw err;
  }
  return { proc, grpcTarget: `127.0.0.1:${ports.grpc}` };
}
