import { readFileSync } from 'node:fs';
import type { SASLOptions } from 'kafkajs';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.ts';
import { requestToken } from './client-credentials.ts';
import type { KafkaSession } from './session.ts';
import type { SessionManager } from './session-manager.ts';

/**
 * Authorization off (Karapace's rest_authorization=false, for migrating onto Tollgate): one
 * shared session with Tollgate's own Kafka identity serves every caller. OAUTHBEARER uses a
 * client-credentials token from the issuer, refreshed at 80% of its lifetime; PLAIN/SCRAM read
 * the password from a file (a mounted Secret).
 */
export async function createSharedSession(
  config: Config,
  sessions: SessionManager,
  logger: Logger,
): Promise<{ session: KafkaSession; stop(): void }> {
  const account = config.kafka.serviceAccount!;
  if (account.mechanism !== 'oauthbearer') {
    const password = readFileSync(account.passwordFile!, 'utf8').trim();
    const sasl = { mechanism: account.mechanism, username: account.username!, password } as SASLOptions;
    const session = sessions.createSharedSession(
      { issuer: 'service', principal: account.username! },
      sasl,
      null,
    );
    return { session, stop() {} };
  }
  const secret = readFileSync(account.clientSecretFile!, 'utf8').trim();
  const fetchToken = () =>
    requestToken({ tokenUrl: account.tokenUrl!, clientId: account.clientId!, clientSecret: secret });
  const first = await fetchToken();
  const session = sessions.createSharedSession({ issuer: 'service', principal: account.clientId! }, null, {
    token: first.accessToken,
    expiresAtMs: Date.now() + first.expiresInSec * 1000,
  });
  let timer: NodeJS.Timeout | null = null;
  const schedule = (lifetimeSec: number) => {
    timer = setTimeout(
      async () => {
        try {
          const next = await fetchToken();
          session.setCredentials({
            token: next.accessToken,
            expiresAtMs: Date.now() + next.expiresInSec * 1000,
          });
          schedule(next.expiresInSec);
        } catch (err) {
          logger.error(
            { event: 'service_token_refresh_failed', err: (err as Error).message },
            'token refresh failed',
          );
          schedule(10);
        }
      },
      Math.max(1, lifetimeSec * 0.8) * 1000,
    );
    timer.unref();
  };
  schedule(first.expiresInSec);
  return {
    session,
    stop() {
      if (timer) clearTimeout(timer);
    },
  };
}
