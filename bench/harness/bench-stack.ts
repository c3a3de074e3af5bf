import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { readStackEnv, type StackEnv } from '../rest/stack-env.ts';
import { freePorts } from './ports.ts';
import { REPO_ROOT } from './tollgate-authz.ts';

/**
 * The broker and issuer the REST parts measure against: the local stack's own script
 * (deploy/stack/stack.sh, parts `issuer kafka` only), started by the benchmark in a state
 * directory of its own under the run's scratch directory, on ports the kernel picks, so a
 * developer's `make stack-up` (or another benchmark) on the same machine is never touched.
 * Brought down by the runner when the run ends, also when a part failed or the run was
 * interrupted.
 */

const STACK_SH = join(REPO_ROOT, 'deploy', 'stack', 'stack.sh');

export interface BenchStack {
  /** Starts issuer + Kafka once (later calls share it); resolves once Kafka answers over OAUTHBEARER. */
  env(): Promise<StackEnv>;
  /** Stops what `env()` started, also after a partial start; a no-op when nothing was started. */
  stop(): Promise<void>;
}

function runStackScript(
  command: 'up' | 'down',
  env: Readonly<Record<string, string>>,
  logFile: string,
): Promise<number | null> {
  const fd = openSync(logFile, 'a');
  const child = spawn(STACK_SH, [command], { stdio: ['ignore', fd, fd], env: { ...process.env, ...env } });
  closeSync(fd);
  return new Promise((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.once('error', () => resolve(null));
  });
}

export function createBenchStack(runDir: string, log: (message: string) => void): BenchStack {
  const dir = join(runDir, 'stack');
  const logFile = join(runDir, 'stack.log');
  let scriptEnv: Record<string, string> | null = null;
  let started: Promise<StackEnv> | null = null;
  let stopping: Promise<void> | null = null;
  const up = async (): Promise<StackEnv> => {
    mkdirSync(dir, { recursive: true });
    const ports = await freePorts([
      'ISSUER',
      'KAFKA',
      'KAFKA_ADMIN',
      'KAFKA_CONTROLLER',
      // Not started (STACK_PARTS), but written to the env file: keep them off the defaults too.
      'ENVOY',
      'ENVOY_ADMIN',
      'AUTHZ_GRPC',
      'AUTHZ_HTTP',
      'METRICS',
      'REST',
    ] as const);
    const env: Record<string, string> = {
      STACK_DIR: dir,
      STACK_PARTS: 'issuer kafka',
      // A cold broker on a busy 2-core machine has been seen to need 80 s; stack.sh's 90 s is tight.
      STACK_READY_TIMEOUT_SEC: '300',
    };
    for (const [name, port] of Object.entries(ports)) env[`STACK_${name}_PORT`] = String(port);
    scriptEnv = env;
    log(`stack: issuer and Kafka on 127.0.0.1:${ports.ISSUER} and :${ports.KAFKA} (log ${logFile})`);
    const t0 = Date.now();
    const code = await runStackScript('up', env, logFile);
    if (code !== 0) throw new Error(`deploy/stack/stack.sh up exited ${code} (see ${logFile})`);
    log(`stack: ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    // The gateway's ACLs for the stack's demo clients (stack.sh copies them only for its own Tollgate).
    return { ...readStackEnv(join(dir, 'env')), aclFile: join(REPO_ROOT, 'deploy', 'stack', 'acl.yaml') };
  };
  return {
    env() {
      started ??= up();
      return started;
    },
    stop() {
      stopping ??= (async () => {
        // stack.sh down stops exactly what up started (pid files), also after a failed up.
        await started?.catch(() => {});
        if (scriptEnv === null) return;
        const code = await runStackScript('down', scriptEnv, logFile);
        log(`stack: down (exit ${code})`);
      })();
      return stopping;
    },
  };
}
