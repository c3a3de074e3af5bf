import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import type { AclTable } from './acl-fixture.ts';
import { freePorts } from './ports.ts';
import { answers200, type ServerProcess, startProcess, waitUntil } from './processes.ts';
import { AUDIENCE } from './token-fixture.ts';
import { REPO_ROOT } from './tollgate-authz.ts';

/**
 * Part 3's Envoys, each derived from the stack's deploy/envoy/envoy.yaml so every other
 * setting (path normalisation, header_mutation, timeouts, overload manager) stays as shipped:
 *  - none:     ext_authz removed;
 *  - tollgate: as shipped, ext_authz -> `tollgate authz` over gRPC;
 *  - jwt-rbac: ext_authz replaced by jwt_authn (the issuer's JWKS as local_jwks, `sub` copied
 *              to x-tollgate-principal, verified-token cache of 10,000) and RBAC allowing the
 *              benchmarked route to the principals the ACL table lets DESCRIBE orders.* topics;
 *  - ext-authz-noop: as shipped, but ext_authz -> a grpc-go server that allows every Check and
 *              does nothing else (floor-servers.ts): what the ext_authz hop itself costs.
 * All drop the stdout access log (it would cost all alike and flood the logs) and run one
 * worker thread (--concurrency 1).
 */

export type EnvoyVariant = 'none' | 'tollgate' | 'jwt-rbac' | 'ext-authz-noop';
export const ENVOY_VARIANTS: readonly EnvoyVariant[] = ['none', 'tollgate', 'jwt-rbac', 'ext-authz-noop'];

/** Variants that keep the shipped ext_authz filter (pointing at `authzPort`). */
function keepsExtAuthz(variant: EnvoyVariant): boolean {
  return variant === 'tollgate' || variant === 'ext-authz-noop';
}

const EXT_AUTHZ = 'envoy.filters.http.ext_authz';
/** The route part 3 sends: topic metadata, DESCRIBE on TOPIC orders.eu. */
export const ENVOY_BENCH_PATH = '/topics/orders.eu';
const TOPIC_PREFIX = '/topics/orders.';

export interface EnvoyOptions {
  readonly variant: EnvoyVariant;
  readonly envoy: string;
  readonly dir: string;
  readonly cpu: string | null;
  readonly upstreamPort: number;
  readonly authzPort: number;
  readonly issuerUrl: string;
  readonly jwksJson: string;
  readonly acl: AclTable;
}

export interface RunningEnvoy {
  readonly proc: ServerProcess;
  readonly url: string;
}

/** Users with an ALLOW READ/WRITE/DESCRIBE on a PREFIXED `orders.` TOPIC rule, i.e. DESCRIBE on orders.eu. */
function describersOfOrders(acl: AclTable): string[] {
  const users = new Set<string>();
  for (const r of acl.rules) {
    if (
      r.resourceType === 'TOPIC' &&
      r.permissionType === 'ALLOW' &&
      r.patternType === 'PREFIXED' &&
      r.resourceName === 'orders.' &&
      ['READ', 'WRITE', 'DESCRIBE', 'ALL'].includes(r.operation)
    ) {
      users.add(r.principal.replace(/^User:/, ''));
    }
  }
  for (const u of acl.superUsers) users.add(u);
  return [...users].sort();
}

function jwtAndRbacFilters(options: EnvoyOptions): unknown[] {
  const subIs = (user: string) => ({
    metadata: {
      filter: 'envoy.filters.http.jwt_authn',
      path: [{ key: 'jwt_payload' }, { key: 'sub' }],
      value: { string_match: { exact: user } },
    },
  });
  return [
    {
      name: 'envoy.filters.http.jwt_authn',
      typed_config: {
        '@type': 'type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication',
        providers: {
          bench_issuer: {
            issuer: options.issuerUrl,
            audiences: [AUDIENCE],
            local_jwks: { inline_string: options.jwksJson },
            forward: true,
            payload_in_metadata: 'jwt_payload',
            claim_to_headers: [{ header_name: 'x-tollgate-principal', claim_name: 'sub' }],
            jwt_cache_config: { jwt_cache_size: 10000 },
          },
        },
        rules: [
          { match: { path: '/_health' } },
          { match: { prefix: '/' }, requires: { provider_name: 'bench_issuer' } },
        ],
      },
    },
    {
      name: 'envoy.filters.http.rbac',
      typed_config: {
        '@type': 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC',
        rules: {
          action: 'ALLOW',
          policies: {
            health: {
              permissions: [{ url_path: { path: { exact: '/_health' } } }],
              principals: [{ any: true }],
            },
            'describe-orders-topics': {
              permissions: [
                {
                  and_rules: {
                    rules: [
                      { header: { name: ':method', string_match: { exact: 'GET' } } },
                      { url_path: { path: { prefix: TOPIC_PREFIX } } },
                    ],
                  },
                },
              ],
              principals: [{ or_ids: { ids: describersOfOrders(options.acl).map(subIs) } }],
            },
          },
        },
      },
    },
  ];
}

/** The stack's Envoy config turned into one variant, with the given ports. */
export function envoyConfig(options: EnvoyOptions, ports: { admin: number; listen: number }): string {
  // biome-ignore lint/suspicious/noExplicitAny: an Envoy bootstrap is a deep, loosely typed tree.
  const config: any = parse(readFileSync(join(REPO_ROOT, 'deploy', 'envoy', 'envoy.yaml'), 'utf8'));
  config.admin.address.socket_address.port_value = ports.admin;
  const listener = config.static_resources.listeners[0];
  listener.address.socket_address.port_value = ports.listen;
  const hcm = listener.filter_chains[0].filters[0].typed_config;
  delete hcm.access_log;
  for (const cluster of config.static_resources.clusters) {
    const address = cluster.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address;
    if (cluster.name === 'tollgate_authz') address.port_value = options.authzPort;
    if (cluster.name === 'tollgate_rest') address.port_value = options.upstreamPort;
  }
  if (!keepsExtAuthz(options.variant)) {
    for (const vhost of hcm.route_config.virtual_hosts) {
      for (const route of vhost.routes) {
        if (route.typed_per_filter_config) delete route.typed_per_filter_config[EXT_AUTHZ];
        if (route.typed_per_filter_config && Object.keys(route.typed_per_filter_config).length === 0) {
          delete route.typed_per_filter_config;
        }
      }
    }
    const at = hcm.http_filters.findIndex((f: { name: string }) => f.name === EXT_AUTHZ);
    if (at < 0) throw new Error('deploy/envoy/envoy.yaml: no ext_authz filter to replace');
    hcm.http_filters.splice(at, 1, ...(options.variant === 'jwt-rbac' ? jwtAndRbacFilters(options) : []));
  }
  return stringify(config);
}

export async function startEnvoy(options: EnvoyOptions): Promise<RunningEnvoy> {
  const ports = await freePorts(['admin', 'listen'] as const);
  const name = `envoy-${options.variant}`;
  const configFile = join(options.dir, `${name}.yaml`);
  writeFileSync(configFile, envoyConfig(options, ports));
  const proc = startProcess({
    name,
    command: options.envoy,
    args: [
      '-c',
      configFile,
      '--concurrency',
      '1',
      // No shared memory with any other Envoy on the machine (a local stack may run one).
      '--disable-hot-restart',
      '--log-level',
      'warn',
    ],
    cpu: options.cpu,
    logFile: join(options.dir, `${name}.log`),
  });
  try {
    await waitUntil(`${name} /ready`, () => answers200(`http://127.0.0.1:${ports.admin}/ready`), 20000, proc);
  } catch (err) {
    await proc.stop();
    throw err;
  }
  return { proc, url: `http://127.0.0.1:${ports.listen}` };
}
