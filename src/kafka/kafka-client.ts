import { readFileSync } from 'node:fs';
import { createSecureContext, type SecureContext } from 'node:tls';
import type { KafkaConfig, logLevel as LogLevel, Mechanism, SASLOptions } from 'kafkajs';
import kafkajs from 'kafkajs';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.ts';

/**
 * Builds kafkajs clients from our config. kafkajs is CommonJS; under ESM its named values are
 * reachable only through the default export.
 */

export const { Kafka, logLevel, CompressionTypes, Partitioners } = kafkajs;
export type KafkaClient = InstanceType<typeof Kafka>;

type KafkaSettings = Config['kafka'];

/** kafkajs logs through pino at warn and above; its info chatter is not ours to keep. */
function logCreatorFor(logger: Logger): KafkaConfig['logCreator'] {
  return () =>
    ({ level, log }: { level: LogLevel; log: { message: string; [k: string]: unknown } }) => {
      const { message, timestamp: _t, logger: _l, ...rest } = log;
      if (level === logLevel.ERROR) logger.error({ kafkajs: rest }, message);
      else if (level === logLevel.WARN) logger.warn({ kafkajs: rest }, message);
    };
}

/**
 * One TLS context per CA file for every client of the process. Given only `ca`, Node builds a
 * context (an OpenSSL SSL_CTX with the parsed CA store) for every connection; with hundreds of
 * sessions, each holding a connection per broker, that was most of a session's memory on the
 * production profile (issue 13).
 */
const secureContexts = new Map<string, SecureContext>();

function secureContextFor(caFile: string | undefined): SecureContext {
  const key = caFile ?? '';
  let context = secureContexts.get(key);
  if (!context) {
    context = createSecureContext(caFile ? { ca: readFileSync(caFile, 'utf8') } : {});
    secureContexts.set(key, context);
  }
  return context;
}

/** A kafkajs client for one identity. `sasl` carries that identity (OAUTHBEARER provider, or PLAIN/SCRAM). */
export function createKafkaClient(
  settings: KafkaSettings,
  clientId: string,
  sasl: SASLOptions | Mechanism,
  logger: Logger,
  reauthenticationThresholdMs = 10_000,
): KafkaClient {
  return new Kafka({
    clientId,
    brokers: [...settings.brokers],
    // Certificate and host name are still verified per connection (rejectUnauthorized defaults to true).
    ssl: settings.ssl ? { secureContext: secureContextFor(settings.caFile) } : false,
    sasl,
    reauthenticationThreshold: reauthenticationThresholdMs,
    connectionTimeout: settings.connectionTimeoutMs,
    requestTimeout: settings.requestTimeoutMs,
    // A few quick retries: a REST caller is waiting, and an outage should answer, not hang.
    retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 2000 },
    logLevel: logLevel.WARN,
    logCreator: logCreatorFor(logger),
  });
}
