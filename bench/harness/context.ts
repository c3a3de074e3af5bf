import { existsSync, mkdirSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import type { StackEnv } from '../rest/stack-env.ts';
import { type AclTable, createAclTable, writeTollgateAclFile } from './acl-fixture.ts';
import { createBenchStack } from './bench-stack.ts';
import { createRequestPool, type RequestPool } from './check-requests.ts';
import { choosePinning, type Pinning } from './processes.ts';
import type { BenchSettings } from './settings.ts';
import { createTokenFixture, type TokenFixture } from './token-fixture.ts';
import { REPO_ROOT } from './tollgate-authz.ts';

/**
 * What a part gets from the runner: settings, CPU pinning, tool paths, a scratch directory
 * under bench/tmp, and the shared fixtures (issuer, tokens, ACL table, request files), built
 * on first use so a part run alone builds only what it needs.
 */

export type Workload = 'cached' | 'fresh' | 'invalid';
export const WORKLOADS: readonly Workload[] = ['cached', 'fresh', 'invalid'];

export const WORKLOAD_LABEL: Record<Workload, string> = {
  cached: 'valid token, repeated (cache hit)',
  fresh: 'fresh valid token each request (signature check)',
  invalid: 'invalid signature, distinct tokens',
};

export interface Fixtures {
  readonly tokens: TokenFixture;
  readonly acl: AclTable;
  readonly tollgateAclFile: string;
  /** CheckRequests per workload, as ghz data files. */
  readonly checkPools: Record<Workload, RequestPool>;
}

export interface Tools {
  readonly grpcLoad: string;
  readonly ghz: string;
  readonly opa: string;
  readonly oha: string;
  readonly envoy: string;
}

export interface BenchContext {
  readonly settings: BenchSettings;
  readonly pinning: Pinning;
  readonly tools: Tools;
  /** Scratch directory of this run (configs, logs, profiles). */
  readonly runDir: string;
  /** Start Tollgate under `node --cpu-prof` (profiles land in runDir). */
  readonly profile: boolean;
  log(message: string): void;
  fixtures(): Promise<Fixtures>;
  /**
   * The issuer and Kafka broker of the REST parts: started by the benchmark itself on first use
   * (deploy/stack/stack.sh, own ports and state directory), stopped by `close()`.
   */
  stack(): Promise<StackEnv>;
  /** Stops what the context started (the stack, the issuer); safe to call more than once. */
  close(): Promise<void>;
}

const BIN = join(REPO_ROOT, '.tools', 'bin');

export function toolPaths(): Tools {
  return {
    grpcLoad: join(BIN, 'grpc-load'),
    ghz: join(BIN, 'ghz'),
    opa: join(BIN, 'opa-envoy-plugin'),
    oha: join(BIN, 'oha'),
    envoy: join(BIN, 'envoy'),
  };
}

export function missingTools(tools: Tools): string[] {
  return Object.entries(tools)
    .filter(([, path]) => !existsSync(path))
    .map(([name]) => name);
}

export function createContext(settings: BenchSettings, runId: string, profile: boolean): BenchContext {
  const runDir = join(REPO_ROOT, 'bench', 'tmp', runId);
  mkdirSync(runDir, { recursive: true });
  let fixtures: Promise<Fixtures> | null = null;
  const started = Date.now();
  const log = (message: string) => {
    const t = ((Date.now() - started) / 1000).toFixed(0).padStart(5);
    process.stderr.write(`[bench ${t}s] ${message}\n`);
  };
  const benchStack = createBenchStack(runDir, log);
  return {
    settings,
    pinning: choosePinning(cpus().length),
    tools: toolPaths(),
    runDir,
    profile,
    log,
    fixtures() {
      fixtures ??= (async () => {
        log(`minting ${settings.tokenPoolSize} tokens and writing the ACL table`);
        const tokens = await createTokenFixture(settings.tokenPoolSize);
        log(`tokens minted in ${tokens.mintSec.toFixed(1)} s`);
        const acl = createAclTable(settings.aclTenants);
        const tollgateAclFile = join(runDir, 'acl.yaml');
        writeTollgateAclFile(acl, tollgateAclFile);
        const checkPools = {
          // Three entries: one per route, the same token.
          cached: createRequestPool(join(runDir, 'check-cached'), [
            tokens.cached,
            tokens.cached,
            tokens.cached,
          ]),
          fresh: createRequestPool(join(runDir, 'check-fresh'), tokens.fresh),
          invalid: createRequestPool(join(runDir, 'check-invalid'), tokens.invalid),
        };
        return { tokens, acl, tollgateAclFile, checkPools };
      })();
      return fixtures;
    },
    stack: () => benchStack.env(),
    async close() {
      await Promise.allSettled([
        benchStack.stop(),
        fixtures?.then((f) => f.tokens.issuer.stop()) ?? Promise.resolve(),
      ]);
    },
  };
}
