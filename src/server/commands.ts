import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import type { Logger } from 'pino';
import { readAclFile } from '../acl/acl-file.ts';
import { CheckHandoff } from '../check/check-handoff.ts';
import { ConfigError, configPath, loadConfig } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { findTimerWarnings } from '../config/timer-warnings.ts';
import { Metrics } from '../metrics/metrics.ts';
import { createProcessChecker, createSharedVerifier, startAclSource, startAuthz } from './authz-process.ts';
import { runExplain } from './explain.ts';
import { applyHttpTimeouts, closeServer, listenOn } from './listen.ts';
import { createLogger } from './logger.ts';
import { startRest } from './rest-process.ts';

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

/**
 * Hand-offs waiting for their request at most (beyond: the REST process checks in full), and
 * how long one waits: Envoy forwards an allowed request at once, so seconds are plenty.
 */
const HANDOFF_MAX_ENTRIES = 4096;
const HANDOFF_TTL_MS = 10_000;

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
  applyHttpTimeouts(server, config.http);
  await listenOn(server, config.metrics.listen, 'metrics');
  logger.info({ event: 'metrics_listening', listen: config.metrics.listen }, 'metrics listening');
  return server;
}

/**
 * Asks the Envoy sidecar to drain: it keeps accepting for its --drain-time-s, answers with
 * `Connection: close`, then closes its listeners. With Envoy as a native sidecar this is the
 * only signal it gets before Tollgate exits, so Tollgate sends it.
 */
async function askEnvoyToDrain(adminUrl: string, logger: Logger): Promise<void> {
  try {
    const res = await fetch(new URL('/drain_listeners?graceful', adminUrl), {
      method: 'POST',
      signal: AbortSignal.timeout(2000),
    });
    await res.text();
    logger.info({ event: 'envoy_drain', status: res.status }, 'asked Envoy to drain its listeners');
  } catch (err) {
    logger.warn({ event: 'envoy_drain_failed', err: (err as Error).message }, 'could not ask Envoy to drain');
  }
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
    for (const warning of findTimerWarnings(config)) process.stderr.write(`tollgate: warning: ${warning}\n`);
    process.stdout.write(
      `configuration ok: ${config.issuers.length} issuer(s), mode ${config.mode}, ` +
        `${acl.file.acls.length} ACL entries in ${config.acl.file}\n`,
    );
    return 0;
  }
  if (command === 'explain') return runExplain(config, { ...values, clientCert: values['client-cert'] });

  const logger = createLogger(config.log.level, `tollgate-${command}`);
  for (const warning of findTimerWarnings(config)) logger.warn({ event: 'config_warning' }, warning);
  const metrics = new Metrics();
  const verifier = createSharedVerifier(config, metrics, logger);
  verifier.start();
  const stops: Array<(graceMs: number) => Promise<void>> = [];
  const drains: Array<() => void> = [];
  try {
    const metricsServer = await startMetricsServer(config, metrics, logger);
    stops.push((grace) => closeServer(metricsServer, grace));
    // One ACL poller and one Checker for the whole process, whichever parts run in it.
    const aclSource = await startAclSource(config, metrics, logger);
    stops.push(async () => aclSource.stop());
    const checker = createProcessChecker(config, verifier, aclSource, metrics, logger);
    // Gate and REST process in one process: the REST process takes the gate's passed check
    // instead of repeating it (src/check/check-handoff.ts). Apart, each checks on its own.
    const handoff =
      command === 'serve'
        ? new CheckHandoff({
            maxEntries: HANDOFF_MAX_ENTRIES,
            ttlMs: HANDOFF_TTL_MS,
            acls: () => aclSource.current(),
          })
        : undefined;
    if (command === 'authz' || command === 'serve') {
      const authz = await startAuthz(config, checker, verifier, aclSource, metrics, logger, handoff);
      metrics.ready.labels('authz').set(0);
      const timer = setInterval(() => metrics.ready.labels('authz').set(authz.ready() ? 1 : 0), 1000);
      timer.unref();
      stops.unshift((grace) => authz.stop(grace));
      drains.push(() => authz.startDraining());
    }
    if (command === 'rest' || command === 'serve') {
      const rest = await startRest(config, checker, aclSource, metrics, logger, handoff);
      stops.unshift((grace) => rest.stop(grace));
      drains.push(() => rest.startDraining());
    }
  } catch (err) {
    logger.fatal({ event: 'startup_failed', err: (err as Error).message }, (err as Error).message);
    await Promise.all(stops.map((stop) => stop(1000)));
    verifier.stop();
    return 1;
  }

  const signal = await waitForSignal();
  const stopStarted = Date.now();
  // Issue 9, the rolling-restart sequence. 1: not ready, yet still serving Checks and REST
  // calls, every REST answer closing its connection, while Envoy drains and endpoints go.
  for (const drain of drains) drain();
  logger.info(
    { event: 'shutdown', signal, drainDelayMs: config.shutdown.drainDelayMs },
    'shutting down: draining',
  );
  if (config.shutdown.envoyAdminUrl) await askEnvoyToDrain(config.shutdown.envoyAdminUrl, logger);
  // A second signal (an impatient Ctrl-C) ends the drain early.
  await Promise.race([
    new Promise((resolve) => setTimeout(resolve, config.shutdown.drainDelayMs).unref()),
    waitForSignal(),
  ]);
  // 2: stop in order, front doors first (requests in flight finish, idle connections close,
  // sessions flush and close), metrics last.
  for (const stop of stops) await stop(config.rest.shutdownTimeoutMs);
  verifier.stop();
  logger.info({ event: 'stopped', shutdownMs: Date.now() - stopStarted }, 'stopped');
  logger.flush?.();
  // Everything is closed; a client library's stray timer must not hold the exit hostage.
  setTimeout(() => process.exit(0), 1000).unref();
  return 0;
}
