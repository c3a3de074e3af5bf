import type { Admin, Mechanism, Producer, SASLOptions } from 'kafkajs';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.ts';
import { ServiceError } from '../errors.ts';
import type { SessionCloseReason } from '../metrics/metrics.ts';
import { createKafkaClient, type KafkaClient } from './kafka-client.ts';
import { isUnknownTopic, type KafkaError, translateKafkaError } from './kafka-errors.ts';
import { createOauthBearerMechanism } from './oauthbearer-authenticator.ts';

/**
 * One caller's Kafka identity: a kafkajs client that authenticates with SASL/OAUTHBEARER using
 * the newest verified token of that principal, plus its lazily created producer and admin
 * client and the consumer instances it owns.
 *
 * The OAUTHBEARER provider is called at every (re)authentication, so swapping `token` is how a
 * refreshed token reaches Kafka: kafkajs re-authenticates each connection before the session
 * lifetime the broker granted (connections.max.reauth.ms, bounded by the token's exp) runs out.
 */

/** Something a session owns that must be closed with it (a REST consumer instance). */
export interface SessionResource {
  /** When the caller last used it (epoch ms): the sweep closes resources idle too long. */
  readonly lastUsedMs: number;
  close(reason: SessionCloseReason): Promise<void>;
}

export interface SessionIdentity {
  readonly issuer: string;
  readonly principal: string;
}

export interface SessionCredentials {
  readonly token: string;
  readonly expiresAtMs: number;
}

export class KafkaSession {
  readonly key: string;
  readonly identity: SessionIdentity;
  readonly consumers = new Map<string, SessionResource>();
  lastUsedMs: number;
  closed = false;

  private token: string;
  private expiresAtMs: number;
  private readonly client: KafkaClient;
  private producer: Promise<Producer> | null = null;
  private admin: Promise<Admin> | null = null;
  private readonly now: () => number;

  constructor(
    key: string,
    identity: SessionIdentity,
    credentials: SessionCredentials | null,
    settings: Config['kafka'],
    logger: Logger,
    options: { now: () => number; sasl?: SASLOptions; reauthenticationThresholdMs?: number },
  ) {
    this.key = key;
    this.identity = identity;
    this.now = options.now;
    this.token = credentials?.token ?? '';
    this.expiresAtMs = credentials?.expiresAtMs ?? Number.POSITIVE_INFINITY;
    this.lastUsedMs = this.now();
    const sasl: SASLOptions | Mechanism =
      options.sasl ??
      createOauthBearerMechanism(async () => {
        // Nothing runs on an expired token: refuse to hand one to kafkajs.
        if (this.now() >= this.expiresAtMs) {
          throw new ServiceError('JWT_EXPIRED', 'the session token expired');
        }
        return { value: this.token };
      });
    this.client = createKafkaClient(
      settings,
      `tollgate-${identity.principal}`,
      sasl,
      logger,
      options.reauthenticationThresholdMs,
    );
  }

  get tokenExpiresAtMs(): number {
    return this.expiresAtMs;
  }

  /** Takes `credentials` if they outlive the ones in use; true when the token was swapped. */
  offerToken(credentials: SessionCredentials): boolean {
    if (credentials.token === this.token || credentials.expiresAtMs <= this.expiresAtMs) return false;
    this.token = credentials.token;
    this.expiresAtMs = credentials.expiresAtMs;
    return true;
  }

  /** For a shared service session: replaces the credentials whatever their lifetime. */
  setCredentials(credentials: SessionCredentials): void {
    this.token = credentials.token;
    this.expiresAtMs = credentials.expiresAtMs;
  }

  touch(): void {
    this.lastUsedMs = this.now();
  }

  /** The kafkajs client, for consumer instances created in this session. */
  kafka(): KafkaClient {
    this.assertOpen();
    return this.client;
  }

  /** The session's idempotent producer (acks=all), connected on first use. */
  getProducer(): Promise<Producer> {
    this.assertOpen();
    if (!this.producer) {
      const producer = this.client.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        // Finite retries: a REST caller is waiting. Within one producer session the broker
        // still de-duplicates the retries that happen (idempotence is per producer id).
        retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 2000 },
        allowAutoTopicCreation: false,
      });
      this.producer = producer.connect().then(
        () => producer,
        (err) => {
          this.producer = null;
          throw translateKafkaError(err);
        },
      );
    }
    return this.producer;
  }

  getAdmin(): Promise<Admin> {
    this.assertOpen();
    if (!this.admin) {
      const admin = this.client.admin();
      this.admin = admin.connect().then(
        () => admin,
        (err) => {
          this.admin = null;
          throw translateKafkaError(err);
        },
      );
    }
    return this.admin;
  }

  /**
   * Runs `run` with the session's admin client. kafkajs keeps every topic a client ever touched
   * in its metadata requests, so after one of them is deleted every refresh fails with
   * UNKNOWN_TOPIC_OR_PARTITION, whatever topic the call is about (issue 12: offsets of an
   * existing topic answered 40401). On that answer the admin client is replaced by a fresh one,
   * which asks only about the topics of this call, and the call runs once more: a topic that
   * really does not exist still fails. Errors come out translated (KafkaError).
   */
  async useAdmin<T>(run: (admin: Admin) => Promise<T>): Promise<T> {
    try {
      return await run(await this.getAdmin());
    } catch (err) {
      const failure: KafkaError = translateKafkaError(err);
      if (!isUnknownTopic(failure)) throw failure;
      this.resetClient('admin');
      try {
        return await run(await this.getAdmin());
      } catch (retryErr) {
        throw translateKafkaError(retryErr);
      }
    }
  }

  /**
   * Drops the producer (or admin client) so the next use builds a fresh one. kafkajs keeps every
   * topic a client ever touched in its metadata requests; once one of them is deleted, every
   * metadata refresh of that client fails with UNKNOWN_TOPIC_OR_PARTITION, for all topics. A
   * fresh client starts with an empty topic list.
   */
  resetClient(kind: 'producer' | 'admin'): void {
    const old = kind === 'producer' ? this.producer : this.admin;
    if (kind === 'producer') this.producer = null;
    else this.admin = null;
    void old?.then((client) => client.disconnect()).catch(() => {});
  }

  /**
   * Closes consumers (they commit what auto-commit promised and leave their groups), then
   * flushes and disconnects the producer and the admin client. Never rejects.
   */
  async close(reason: SessionCloseReason): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.consumers.values()].map((c) => c.close(reason)));
    this.consumers.clear();
    const producer = this.producer;
    const admin = this.admin;
    this.producer = null;
    this.admin = null;
    await Promise.allSettled([producer?.then((p) => p.disconnect()), admin?.then((a) => a.disconnect())]);
  }

  private assertOpen(): void {
    if (this.closed) throw new ServiceError('KAFKA_UNAVAILABLE', 'the Kafka session is closed');
  }
}
