import { readFileSync } from 'node:fs';
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

/** A kafkajs client for one identity. `sasl` carries that identity (OAUTHBEARER provider, or PLAIN/SCRAM). */
export function createKafkaClient(
  settings: KafkaSettings,
  clientId: string,
  sasl: SASLOptions | Mechanism,
  logger: Logger,
  reauthenticationThresholdMs = 10_000,
): KafkaClient {
  const ca = settings.caFile ? readFileSync(settings.caFile, 'utf8') : undefined;
  return new Kafka({
    clientId,
    brokers: [...settings.brokers],
    ssl: settings.ssl ? (ca ? { ca: [ca] } : true) : false,
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
