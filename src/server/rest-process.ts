import type { Logger } from 'pino';
import { createAclSource, createStaticAclSource } from '../authz/acl-source.ts';
import { createChecker } from '../authz/check.ts';
import type { Config } from '../config/schema.ts';
import type { TokenVerifier } from '../jwt/verifier.ts';
import { SessionManager } from '../kafka/session-manager.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { createRestServer } from '../rest/rest-server.ts';
import { applyHttpTimeouts, closeServer, listenOn } from './listen.ts';
import { createServiceSession } from './service-session.ts';

const VERSION = '0.1.0';

export interface RestHandle {
  readonly port: number;
  /** Shutdown began: not ready, and every answer closes its connection; still serving. */
  startDraining(): void;
  stop(graceMs: number): Promise<void>;
}

/**
 * Starts the REST process: its own ACL view (same file, same decision code as authz), the
 * session manager and the HTTP server on loopback. Shutdown: stop accepting, let requests in
 * flight finish, then close every session (flush producers, commit, leave groups).
 */
export async function startRest(
  config: Config,
  verifier: TokenVerifier,
  metrics: Metrics,
  logger: Logger,
): Promise<RestHandle> {
  const aclSource = createAclSource(config.acl.file, config.acl.reloadCheckMs, (result) => {
    if (!result.ok)
      logger.error({ event: 'acl_load_failed', problems: result.problems }, 'REST: ACL file rejected');
  });
  const first = await aclSource.reload();
  if (!first.ok && config.authorization) {
    throw new Error(`${config.acl.file}: invalid ACL file: ${first.problems.join('; ')}`);
  }
  aclSource.start();
  const checker = createChecker(config, {
    verifier,
    acls: () => aclSource.current(),
    onUnexpected: (err) =>
      logger.error(
        { event: 'check_internal_error', err: (err as Error)?.message, stack: (err as Error)?.stack },
        'unexpected error during a check; denied',
      ),
  });
  const sessions = new SessionManager(config, metrics, logger);
  sessions.start();
  const serviceSession = config.authorization ? null : await createServiceSession(config, sessions, logger);
  let draining = false;
  const server = createRestServer({
    config,
    checker,
    sessions,
    acls: () => (config.authorization ? aclSource.current() : null),
    serviceSession: serviceSession?.session ?? null,
    metrics,
    logger,
    startedAtMs: Date.now(),
    version: `tollgate-${VERSION}`,
    isDraining: () => draining,
  });
  applyHttpTimeouts(server, config.http);
  const port = await listenOn(server, config.rest.listen, 'rest');
  metrics.ready.labels('rest').set(1);
  logger.info({ event: 'rest_listening', listen: config.rest.listen }, 'REST listening');
  return {
    port,
    startDraining() {
      draining = true;
      metrics.ready.labels('rest').set(0);
    },
    async stop(graceMs) {
      draining = true;
      metrics.ready.labels('rest').set(0);
      aclSource.stop();
      await closeServer(server, graceMs);
      serviceSession?.stop();
      await sessions.closeAll('shutdown', graceMs);
    },
  };
}
