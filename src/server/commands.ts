import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import type { Logger } from 'pino';
import { readAclFile } from '../acl/acl-file.ts';
import { ConfigError, configPath, loadConfig } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { Metrics } from '../metrics/metrics.ts';
import { createSharedVerifier, startAuthz } from './authz-process.ts';
import { runExplain } from './explain.ts';
import { closeServer, listenOn } from './listen.ts';
import { createLogger } from './logger.ts';

type Command = 'serve' | 'authz' | 'rest' | 'explain' | 'check-config';

const USAGE: Record<Command, string> = {
  serve: 'tollgate serve [--config FILE]    authz and rest in one process (the default sidecar)',
  authz: 'tollgate authz [--config FILE]    the Envoy ext_authz gRPC service, HTTP /auth and probes',
  rest: 'tollgate rest [--config FILE]     the Kafka REST v2 proxy on loopback',
  explain:
    'tollgate explain [--config FILE] --token JWT --method POST --path /topics/orders.eu [--client-cert PEM]\n' +
    '    prints the decision, the principal, the operations required and the ACL entry that decided',
  'check-config':
    'tollgate check-config [--config FILE]    validate the configuration and the ACL file, then exit',
};

function loadOrReport(file: string | undefined): Config | null {
  try {
    return loadConfig(file);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`tollgate: ${err.message}\n`);
      return null;
    }
    throw err;
  }
}

async function startMetricsServer(config: Config, metrics: Metrics, logger: Logger) {
  const server = createServer((req, res) => {
    if ((req.url ?? '').split('?', 1)[0] !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    metrics.exposition().then(
      ({ contentType, body }) => {
        res.writeHead(200, { 'content-type': contentType });
        res.end(body);
      },
      () => res.writeHead(500).end(),
    );
  });
  await listenOn(server, config.metrics.listen, 'metrics');
  logger.info({ event: 'metrics_listening', listen: config.metrics.listen }, 'metrics listening');
  return server;
}

function waitForSignal(): Promise<string> {
  return new Promise((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
}

export async function runServerCommand(command: Command, argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string', short: 'c' },
      token: { type: 'string' },
      'client-cert': { type: 'string' },
      method: { type: 'string', default: 'GET' },
      path: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE[command]}\n`);
    return 0;
  }
  const config = loadOrReport(configPath(values.config));
  if (!config) return 1;

  if (command === 'check-config') {
    const acl = await readAclFile(config.acl.file);
    if (!acl.ok) {
      process.stderr.write(
        `tollgate: ${config.acl.file}: invalid ACL file:\n  ${acl.problems.join('\n  ')}\n`,
      );
      return 1;
    }
    process.stdout.write(
      `configuration ok: ${config.issuers.length} issuer(s), mode ${config.mode}, ` +
        `${acl.file.acls.length} ACL entries in ${config.acl.file}\n`,
    );
    return 0;
  }
  if (command === 'explain') return runExplain(config, { ...values, clientCert: values['client-cert'] });

  const logger = createLogger(config.log.level, `tollgate-${command}`);
  const metrics = new Metrics();
  const verifier = createSharedVerifier(config, metrics, logger);
  verifier.start();
  const stops: Array<(graceMs: number) => Promise<void>> = [];
  try {
    const metricsServer = await startMetricsServer(config, metrics, logger);
    stops.push((grace) => closeServer(metricsServer, grace));
    if (command === 'authz' || command === 'serve') {
      const authz = await startAuthz(config, verifier, metrics, logger);
      metrics.ready.labels('authz').set(0);
      const timer = setInterval(() => metrics.ready.labels('authz').set(authz.ready() ? 1 : 0), 1000);
      timer.unref();
      stops.unshift((grace) => authz.stop(grace));
    }
    if (command === 'rest' || command === 'serve') {
      const { startRest } = await import('./rest-process.ts');
      const rest = await startRest(config, verifier, metrics, logger);
      stops.unshift((grace) => rest.stop(grace));
    }
  } catch (err) {
    logger.fatal({ event: 'startup_failed', err: (err as Error).message }, (err as Error).message);
    await Promise.all(stops.map((stop) => stop(1000)));
    verifier.stop();
    return 1;
  }

  const signal = await waitForSignal();
  logger.info({ event: 'shutdown', signal }, 'shutting down');
  // Stop in order: front doors first (they drain in-flight requests), metrics last.
  for (const stop of stops) await stop(config.rest.shutdownTimeoutMs);
  verifier.stop();
  logger.info({ event: 'stopped' }, 'stopped');
  logger.flush?.();
  return 0;
}
