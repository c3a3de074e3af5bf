import type { Logger } from 'pino';
import type { AclSource } from '../check/acl-source.ts';
import type { Checker } from '../check/check.ts';
import type { CheckHandoff } from '../check/check-handoff.ts';
import type { Config } from '../config/schema.ts';
import { SessionManager } from '../kafka/session-manager.ts';
import { createSharedSession } from '../kafka/shared-session.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { createRestServer } from '../rest/rest-server.ts';
import { applyHttpTimeouts, closeServer, listenOn } from './listen.ts';

const VERSION = '0.1.0';

export interface RestHandle {
  readonly port: number;
  /** Shutdown began: not ready, and every answer closes its connection; still serving. */
  startDraining(): void;
  stop(graceMs: number): Promise<void>;
}

/**
 * Starts the REST process: the process's Checker (same ACL source, same decision code as the
 * gate), the session manager and the HTTP server on loopback. Shutdown: stop accepting, let
 * requests in flight finish, then close every session (flush producers, commit, leave groups).
 */
export async function startRest(
  config: Config,
  checker: Checker,
  aclSource: AclSource,
  metrics: Metrics,
  logger: Logger,
  handoff?: CheckHandoff,
): Promise<RestHandle> {
  if (!aclSource.loaded()) {
    // The REST process serves nothing it cannot check: no rules, no start.
    throw new Error(`${config.acl.file}: invalid ACL file (see acl_load_failed)`);
  }
  const sessions = new SessionManager(config, metrics, logger);
  sessions.start();
  const sharedSession = config.authorization ? null : await createSharedSession(config, sessions, logger);
  let draining = false;
  const server = createRestServer({
    config,
    checker,
    handoff,
    sessions,
    acls: () => (config.authorization ? aclSource.current() : null),
    sharedSession: sharedSession?.session ?? null,
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
      await closeServer(server, graceMs);
      sharedSession?.stop();
      await sessions.closeAll('shutdown', graceMs);
    },
  };
}
