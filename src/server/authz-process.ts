import type { Server } from 'node:http';
import type { Logger } from 'pino';
import { type GrpcServerHandle, startGrpcServer } from '../authz/grpc-server.ts';
import { createAuthHttpServer } from '../authz/http-server.ts';
import {
  type AclReload,
  type AclSource,
  createAclSource,
  createStaticAclSource,
} from '../check/acl-source.ts';
import { type Checker, createChecker } from '../check/check.ts';
import type { CheckHandoff } from '../check/check-handoff.ts';
import { createDecisionRecorder, logUnexpected } from '../check/decision-log.ts';
import type { Config } from '../config/schema.ts';
import { createTokenVerifier, type TokenVerifier } from '../jwt/verifier.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { applyHttpTimeouts, closeServer, listenOn } from './listen.ts';

/** The verifier every component shares: one JWKS cache, one verified-token cache. */
export function createSharedVerifier(config: Config, metrics: Metrics, logger: Logger): TokenVerifier {
  return createTokenVerifier(config.issuers, config.jwt, {
    onUnexpectedError: logUnexpected(logger, 'token verification'),
    onJwksFetch: (issuer, result) => {
      metrics.jwksFetches.labels(issuer, result).inc();
      if (result === 'error')
        logger.warn({ event: 'jwks_fetch_failed', issuer }, 'JWKS fetch failed; known keys stay in use');
    },
    onCache: (hit) => metrics.recordTokenCache(hit),
  });
}

/**
 * The ACL file in force for the whole process: one poller, shared by the gate and the REST
 * process. With authorization off no file is read at all.
 */
export async function startAclSource(config: Config, metrics: Metrics, logger: Logger): Promise<AclSource> {
  if (!config.authorization) return createStaticAclSource();
  const onReload = (result: AclReload) => {
    metrics.aclReloads.labels(result.ok ? 'ok' : 'error').inc();
    metrics.aclRules.set(result.rules);
    if (result.ok)
      logger.info({ event: 'acl_loaded', file: config.acl.file, rules: result.rules }, 'ACL file loaded');
    else
      logger.error(
        { event: 'acl_load_failed', file: config.acl.file, problems: result.problems },
        'ACL file rejected; previous rules stay in force',
      );
  };
  const source = createAclSource(config.acl.file, config.acl.reloadCheckMs, onReload);
  await source.reload();
  source.start();
  return source;
}

/** The one Checker of the process: both front ends of the gate and the REST process use it. */
export function createProcessChecker(
  config: Config,
  verifier: TokenVerifier,
  aclSource: AclSource,
  metrics: Metrics,
  logger: Logger,
): Checker {
  return createChecker(config, {
    verifier,
    acls: () => aclSource.current(),
    record: createDecisionRecorder(metrics, logger, { logAllows: config.authz.logAllows }),
    onUnexpectedError: logUnexpected(logger, 'check'),
  });
}

export interface AuthzHandle {
  ready(): boolean;
  /** Shutdown began: readiness false (HTTP /readyz and gRPC health), Checks still answered. */
  startDraining(): void;
  stop(graceMs: number): Promise<void>;
  readonly grpcPort: number;
  readonly httpPort: number;
}

/** Starts the gRPC Check service and the HTTP /auth + probes listener. */
export async function startAuthz(
  config: Config,
  checker: Checker,
  verifier: TokenVerifier,
  aclSource: AclSource,
  metrics: Metrics,
  logger: Logger,
  handoff?: CheckHandoff,
): Promise<AuthzHandle> {
  let draining = false;
  const ready = () => !draining && aclSource.loaded() && verifier.ready();
  const grpcServer: GrpcServerHandle = await startGrpcServer(
    config.authz.grpcListen,
    checker,
    config.authz.principalHeader,
    ready,
    {
      maxConcurrentChecks: config.authz.maxConcurrentChecks,
      maxConcurrentStreams: config.authz.maxConcurrentStreams,
      onShed: (reason) => metrics.shed.labels('authz', reason).inc(),
      handoff,
    },
  );
  const http: Server = createAuthHttpServer(checker, {
    principalHeader: config.authz.principalHeader,
    ready,
  });
  applyHttpTimeouts(http, config.http);
  const httpPort = await listenOn(http, config.authz.httpListen, 'authz HTTP');
  logger.info(
    {
      event: 'authz_listening',
      grpc: config.authz.grpcListen,
      http: config.authz.httpListen,
      mode: config.mode,
    },
    'authz listening',
  );
  return {
    ready,
    grpcPort: grpcServer.port,
    httpPort,
    startDraining() {
      draining = true;
      grpcServer.setServing(false);
    },
    async stop(graceMs) {
      grpcServer.setServing(false);
      await Promise.all([grpcServer.stop(graceMs), closeServer(http, graceMs)]);
    },
  };
}
