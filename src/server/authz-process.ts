import type { Server } from 'node:http';
import type { Logger } from 'pino';
import { type AclReload, createAclSource, createStaticAclSource } from '../authz/acl-source.ts';
import { createAuthzService } from '../authz/authz-service.ts';
import { createChecker } from '../authz/check.ts';
import { type GrpcServerHandle, startGrpcServer } from '../authz/grpc-server.ts';
import { createAuthHttpServer } from '../authz/http-server.ts';
import type { Config } from '../config/schema.ts';
import { createTokenVerifier, type TokenVerifier } from '../jwt/verifier.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { closeServer, listenOn } from './listen.ts';

/** The verifier every component shares: one JWKS cache, one verified-token cache. */
export function createSharedVerifier(config: Config, metrics: Metrics, logger: Logger): TokenVerifier {
  return createTokenVerifier(config.issuers, config.jwt, {
    onJwksFetch: (issuer, result) => {
      metrics.jwksFetches.labels(issuer, result).inc();
      if (result === 'error')
        logger.warn({ event: 'jwks_fetch_failed', issuer }, 'JWKS fetch failed; known keys stay in use');
    },
    onCache: (hit) => metrics.tokenCache.labels(hit ? 'hit' : 'miss').inc(),
  });
}

export interface AuthzHandle {
  ready(): boolean;
  stop(graceMs: number): Promise<void>;
  readonly grpcPort: number;
  readonly httpPort: number;
}

/** Starts the ACL source, the gRPC Check service and the HTTP /auth + probes listener. */
export async function startAuthz(
  config: Config,
  verifier: TokenVerifier,
  metrics: Metrics,
  logger: Logger,
): Promise<AuthzHandle> {
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
  const aclSource = config.authorization
    ? createAclSource(config.acl.file, config.acl.reloadCheckMs, onReload)
    : createStaticAclSource();
  await aclSource.reload();
  aclSource.start();

  const checker = createChecker(config, { verifier, acls: () => aclSource.current() });
  const service = createAuthzService(checker, metrics, logger, { logAllows: config.authz.logAllows });
  const ready = () => aclSource.loaded() && verifier.ready();
  const grpcServer: GrpcServerHandle = await startGrpcServer(
    config.authz.grpcListen,
    service,
    config.authz.principalHeader,
    ready,
    {
      maxConcurrentChecks: config.authz.maxConcurrentChecks,
      onShed: (reason) => metrics.shed.labels('authz', reason).inc(),
    },
  );
  const http: Server = createAuthHttpServer(service, {
    principalHeader: config.authz.principalHeader,
    ready,
  });
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
    async stop(graceMs) {
      grpcServer.setServing(false);
      aclSource.stop();
      await Promise.all([grpcServer.stop(graceMs), closeServer(http, graceMs)]);
    },
  };
}
