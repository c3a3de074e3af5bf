import type { SASLOptions } from 'kafkajs';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.ts';
import { ServiceError } from '../errors.ts';
import type { Metrics, SessionCloseReason } from '../metrics/metrics.ts';
import {
  KafkaSession,
  type SessionCredentials,
  type SessionIdentity,
  type SessionResource,
} from './session.ts';

/**
 * The sessions of the REST process, one per (issuer, principal). A session is closed:
 * - at its newest token's `exp` minus a margin, unless a newer token arrived (timer);
 * - after sitting idle (sweep, every `sweepIntervalSec`); sessions holding consumer instances
 *   only when `consumerIdleTimeoutSec` > 0 and exceeded;
 * - at shutdown.
 */

/**
 * When kafkajs re-authenticates a connection (KIP-368): this long before the session lifetime
 * the broker granted runs out. It must stay below the expiry margin: the token handed over at
 * re-authentication then always has more than this threshold left. With the kafkajs default
 * (10 s) and a token nearer its end than that, kafkajs re-authenticates again at once, and
 * Kafka 4.1 answers ILLEGAL_SASL_STATE (measured: one send in forty failed at each refresh).
 * It must also exceed the longest request a connection has in flight (consumer fetches wait
 * at most 500 ms), so a request never outlives the session it started in.
 */
export function reauthenticationThresholdFor(expiryMarginSec: number): number {
  return Math.max(1000, Math.floor((expiryMarginSec * 1000) / 2));
}

export interface SessionManagerOptions {
  readonly now?: () => number;
}

export class SessionManager {
  private readonly sessions = new Map<string, KafkaSession>();
  private readonly expiryTimers = new Map<string, NodeJS.Timeout>();
  private readonly config: Config;
  private readonly metrics: Metrics;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly reauthenticationThresholdMs: number;
  private sweepTimer: NodeJS.Timeout | null = null;
  private stopping = false;

  constructor(config: Config, metrics: Metrics, logger: Logger, options: SessionManagerOptions = {}) {
    this.config = config;
    this.metrics = metrics;
    this.logger = logger;
    this.now = options.now ?? Date.now;
    this.reauthenticationThresholdMs = reauthenticationThresholdFor(config.sessions.expiryMarginSec);
  }

  start(): void {
    this.sweepTimer ??= setInterval(() => void this.sweep(), this.config.sessions.sweepIntervalSec * 1000);
    this.sweepTimer.unref();
  }

  get size(): number {
    return this.sessions.size;
  }

  /**
   * The caller's session, created on first use; a newer token for the same principal replaces
   * the one the session uses. Fails with LIMIT_REACHED when the session cap is reached.
   */
  acquire(identity: SessionIdentity, credentials: SessionCredentials): KafkaSession {
    if (this.stopping) throw new ServiceError('KAFKA_UNAVAILABLE', 'shutting down');
    // Nothing runs on an expired token, not even within the verifier's clock skew.
    if (credentials.expiresAtMs - this.config.sessions.expiryMarginSec * 1000 <= this.now()) {
      throw new ServiceError('JWT_EXPIRED', 'the access token expires too soon to use for Kafka');
    }
    const key = `${identity.issuer}\u0000${identity.principal}`;
    let session = this.sessions.get(key);
    if (session && !session.closed) {
      if (session.offerToken(credentials)) {
        this.metrics.tokenSwaps.inc();
        this.armExpiry(session);
      }
      session.touch();
      return session;
    }
    if (this.sessions.size >= this.config.sessions.maxSessions) {
      throw new ServiceError('LIMIT_REACHED', `session limit reached (${this.config.sessions.maxSessions})`);
    }
    session = new KafkaSession(key, identity, credentials, this.config.kafka, this.logger, {
      now: this.now,
      reauthenticationThresholdMs: this.reauthenticationThresholdMs,
    });
    this.sessions.set(key, session);
    this.metrics.sessionsActive.set(this.sessions.size);
    this.armExpiry(session);
    return session;
  }

  /** A session that is not tied to a caller's token (authorization off: Tollgate's own identity). */
  createSharedSession(
    identity: SessionIdentity,
    sasl: SASLOptions | null,
    credentials: SessionCredentials | null,
  ) {
    const key = `service\u0000${identity.principal}`;
    const session = new KafkaSession(key, identity, credentials, this.config.kafka, this.logger, {
      now: this.now,
      sasl: sasl ?? undefined,
      reauthenticationThresholdMs: this.reauthenticationThresholdMs,
    });
    this.sessions.set(key, session);
    this.metrics.sessionsActive.set(this.sessions.size);
    return session;
  }

  /**
   * Registers a consumer instance with its session. The manager is the one owner of the
   * consumer-instance gauge: every way an instance goes (deleted, idle, its session closed at
   * token expiry, idle or shutdown) passes through here or `close`.
   */
  addConsumer(session: KafkaSession, key: string, consumer: SessionResource): void {
    // A session closing now would never close (or count down) an instance added to it.
    if (session.closed) throw new ServiceError('KAFKA_UNAVAILABLE', 'the Kafka session is closed');
    session.consumers.set(key, consumer);
    this.metrics.consumerInstances.inc();
  }

  /** Forgets a consumer instance (closing it is the caller's); false when it was not there. */
  removeConsumer(session: KafkaSession, key: string): boolean {
    if (!session.consumers.delete(key)) return false;
    this.metrics.consumerInstances.dec();
    return true;
  }

  /** Closes sessions idle past their timeout. Exposed for tests; runs on the sweep timer. */
  async sweep(): Promise<number> {
    const now = this.now();
    const idleMs = this.config.sessions.idleTimeoutSec * 1000;
    const consumerIdleMs = this.config.sessions.consumerIdleTimeoutSec * 1000;
    const closing: Array<Promise<void>> = [];
    for (const session of this.sessions.values()) {
      // Consumer instances idle past their timeout go first (Confluent's consumer.instance.timeout.ms).
      if (consumerIdleMs > 0) {
        for (const [key, consumer] of session.consumers) {
          if (now - consumer.lastUsedMs > consumerIdleMs) {
            this.removeConsumer(session, key);
            closing.push(consumer.close('idle'));
          }
        }
      }
      if (session.key.startsWith('service\u0000')) continue;
      const idleFor = now - session.lastUsedMs;
      const hasConsumers = session.consumers.size > 0;
      if (hasConsumers ? consumerIdleMs > 0 && idleFor > consumerIdleMs : idleFor > idleMs) {
        closing.push(this.close(session, 'idle'));
      } else if (now >= session.tokenExpiresAtMs) {
        closing.push(this.close(session, 'expired'));
      }
    }
    await Promise.all(closing);
    return closing.length;
  }

  async close(session: KafkaSession, reason: SessionCloseReason): Promise<void> {
    if (this.sessions.get(session.key) !== session) return;
    this.sessions.delete(session.key);
    const timer = this.expiryTimers.get(session.key);
    if (timer) clearTimeout(timer);
    this.expiryTimers.delete(session.key);
    this.metrics.sessionsActive.set(this.sessions.size);
    this.metrics.sessionsClosed.labels(reason).inc();
    this.logger.info(
      {
        event: 'session_closed',
        reason,
        principal: session.identity.principal,
        consumers: session.consumers.size,
      },
      'Kafka session closed',
    );
    // The session closes (and forgets) its consumer instances with it.
    this.metrics.consumerInstances.dec(session.consumers.size);
    await session.close(reason);
  }

  /** Closes every session within `deadlineMs` (shutdown). */
  async closeAll(reason: SessionCloseReason, deadlineMs: number): Promise<void> {
    this.stopping = true;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    const all = Promise.all([...this.sessions.values()].map((s) => this.close(s, reason)));
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, deadlineMs);
    });
    await Promise.race([all, deadline]);
    clearTimeout(timer);
  }

  private armExpiry(session: KafkaSession): void {
    const previous = this.expiryTimers.get(session.key);
    if (previous) clearTimeout(previous);
    if (!Number.isFinite(session.tokenExpiresAtMs)) return;
    const dueInMs = session.tokenExpiresAtMs - this.config.sessions.expiryMarginSec * 1000 - this.now();
    // setTimeout caps at ~24.8 days; tokens do not live that long, but be safe.
    const timer = setTimeout(
      () => {
        if (session.closed) return;
        if (this.now() >= session.tokenExpiresAtMs - this.config.sessions.expiryMarginSec * 1000) {
          void this.close(session, 'expired');
        } else {
          this.armExpiry(session);
        }
      },
      Math.min(Math.max(dueInMs, 0), 2 ** 31 - 1),
    );
    timer.unref();
    this.expiryTimers.set(session.key, timer);
  }
}
