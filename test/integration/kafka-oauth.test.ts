import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { generateKeyPair, SignJWT } from 'jose';
import type { Admin, Consumer, Producer } from 'kafkajs';
import kafkajs from 'kafkajs';
import { sleep, stackValue, tokenFor } from './stack-env.ts';

// The foundation's riskiest claims, proven on the real broker: Kafka 4 validates our issuer's
// JWTs over SASL/OAUTHBEARER, applies its ACLs to the token's principal, and drops connections
// whose token expired — and kafkajs 2.2.4 works against it.

const { Kafka, logLevel } = kafkajs;

function kafkaWith(provider: () => Promise<string>, clientId = `test-${randomUUID().slice(0, 8)}`) {
  return new Kafka({
    clientId,
    brokers: [stackValue('KAFKA_BOOTSTRAP')],
    sasl: { mechanism: 'oauthbearer', oauthBearerProvider: async () => ({ value: await provider() }) },
    logLevel: logLevel.NOTHING,
    retry: { retries: 1, initialRetryTime: 100 },
    connectionTimeout: 3000,
  });
}

async function connectAdmin(token: string): Promise<Admin> {
  const admin = kafkaWith(async () => token).admin();
  await admin.connect();
  return admin;
}

/** Connects and makes one request, so that SASL authentication has certainly happened. */
async function useToken(token: string): Promise<void> {
  const admin = kafkaWith(async () => token).admin();
  try {
    await admin.connect();
    await admin.describeCluster();
  } finally {
    await admin.disconnect();
  }
}

/** The kafkajs error type name of a rejected promise (e.g. KafkaJSSASLAuthenticationError). */
async function errorOf(promise: Promise<unknown>): Promise<{ name: string; type?: string; message: string }> {
  try {
    await promise;
  } catch (err) {
    const e = err as { name: string; type?: string; message: string };
    return { name: e.name, type: e.type, message: e.message };
  }
  throw new Error('expected a rejection');
}

function brokerValidationFailures(): number {
  const log = readFileSync(`${stackValue('STACK_DIR')}/logs/kafka.log`, 'utf8');
  return log.split('Could not validate the access token').length - 1;
}

/**
 * Asserts that the broker refused `token` at SASL authentication. kafkajs 2.2.4 does not read
 * the broker's OAUTHBEARER error challenge (RFC 7628 two-round failure): it carries on, and the
 * broker closes the connection, so the client sees a closed connection rather than a SASL error.
 * The broker's own log line is the proof that its JWT validator refused the token.
 */
async function assertRefusedAtAuthentication(token: string): Promise<void> {
  const before = brokerValidationFailures();
  const err = await errorOf(useToken(token));
  assert.match(
    err.name,
    /KafkaJSSASLAuthenticationError|KafkaJSConnectionClosedError|KafkaJSNumberOfRetriesExceeded/,
  );
  assert.ok(brokerValidationFailures() > before, 'the broker logged a JWT validation failure');
}

describe('Kafka 4 with OAUTHBEARER against the stack issuer', function () {
  this.timeout(60_000);
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    while (cleanups.length > 0) await cleanups.pop()!().catch(() => {});
  });

  it('lets alice produce to and consume from orders.* with her token', async () => {
    const token = await tokenFor('alice');
    const kafka = kafkaWith(async () => token);
    const producer: Producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    cleanups.push(() => producer.disconnect());
    const marker = randomUUID();
    const [meta] = await producer.send({
      topic: 'orders.eu',
      acks: -1,
      messages: [{ key: 'k1', value: marker }],
    });
    assert.equal(meta?.errorCode, 0);

    const consumer: Consumer = kafka.consumer({ groupId: `alice-${randomUUID().slice(0, 8)}` });
    await consumer.connect();
    cleanups.push(() => consumer.disconnect());
    await consumer.subscribe({ topic: 'orders.eu', fromBeginning: true });
    const seen = new Promise<string>((resolve) => {
      void consumer.run({
        eachMessage: async ({ message }) => {
          if (message.value?.toString() === marker) resolve(message.key?.toString() ?? '');
        },
      });
    });
    assert.equal(await seen, 'k1');
  });

  it('authenticates mallory, then refuses her a topic (authorization, not authentication)', async () => {
    const admin = await connectAdmin(await tokenFor('mallory'));
    cleanups.push(() => admin.disconnect());
    assert.deepEqual(await admin.listTopics(), [], 'the broker hides topics mallory may not describe');
    const producer = kafkaWith(async () => tokenFor('mallory')).producer();
    await producer.connect();
    cleanups.push(() => producer.disconnect());
    const err = await errorOf(producer.send({ topic: 'orders.eu', messages: [{ value: 'x' }] }));
    assert.match(`${err.type} ${err.message}`, /TOPIC_AUTHORIZATION_FAILED|not authorized/i);
  });

  it('refuses at SASL authentication a token for another audience', async () => {
    await assertRefusedAtAuthentication(await tokenFor('alice', { audience: 'not-kafka' }));
  });

  it('refuses at SASL authentication a token signed by a key that is not in the JWKS', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const now = Math.floor(Date.now() / 1000);
    const forged = await new SignJWT({ client_id: 'alice' })
      .setProtectedHeader({ alg: 'RS256', kid: 'rs256-forged', typ: 'at+jwt' })
      .setIssuer(stackValue('ISSUER_URL'))
      .setSubject('alice')
      .setAudience('kafka')
      .setIssuedAt(now)
      .setExpirationTime(now + 300)
      .sign(privateKey);
    await assertRefusedAtAuthentication(forged);
  });

  it('refuses at SASL authentication an expired token', async () => {
    const token = await tokenFor('alice', { ttl: '1s' });
    // The broker allows 5 s of clock skew (sasl.oauthbearer.clock.skew.seconds in the stack).
    await sleep(7_000);
    await assertRefusedAtAuthentication(token);
  });

  it('drops a connection past its 20-second token unless a fresh token is supplied', async () => {
    const stale = await tokenFor('alice', { ttl: '20s' });
    const staleAdmin = await connectAdmin(stale);
    cleanups.push(() => staleAdmin.disconnect());
    let fresh = await tokenFor('alice', { ttl: '20s' });
    let provided = 0;
    const refreshing = kafkaWith(async () => {
      provided++;
      return fresh;
    }).admin();
    await refreshing.connect();
    cleanups.push(() => refreshing.disconnect());
    assert.ok((await staleAdmin.listTopics()).includes('orders.eu'));

    await sleep(12_000);
    fresh = await tokenFor('alice', { ttl: '60s' });
    await sleep(12_000);
    // 24 s after the tokens were minted: kafkajs must re-authenticate (KIP-368). The stale
    // connection can only offer its expired token, which the broker refuses.
    const err = await errorOf(staleAdmin.listTopics());
    assert.match(
      err.name,
      /KafkaJSSASLAuthenticationError|KafkaJSConnection(Closed)?Error|KafkaJSNumberOfRetriesExceeded/,
    );
    assert.ok(
      (await refreshing.listTopics()).includes('orders.eu'),
      'the refreshed connection keeps working',
    );
    assert.ok(provided >= 2, 'kafkajs asked the provider again for the re-authentication');
  });

  describe('with sasl.oauthbearer.sub.claim.name = preferred_username', () => {
    const restartKafka = (claim: string) =>
      execFileSync('deploy/stack/stack.sh', ['restart-part', 'kafka'], {
        env: { ...process.env, STACK_SUB_CLAIM: claim, STACK_PARTS: 'kafka' },
        stdio: 'pipe',
      });
    before(function () {
      this.timeout(120_000);
      restartKafka('preferred_username');
    });
    after(function () {
      this.timeout(120_000);
      restartKafka('sub');
    });

    it("applies the ACLs of that claim's value, not of sub", async () => {
      // A fresh principal per run: the stack keeps its data across this restart.
      const username = `carol-${randomUUID().slice(0, 8)}`;
      const token = await tokenFor('alice', { claims: [`preferred_username=${username}`] });
      const admin = await connectAdmin(token);
      cleanups.push(() => admin.disconnect());
      assert.deepEqual(
        await admin.listTopics(),
        [],
        `User:${username} holds no ACLs yet, and alice's do not apply`,
      );

      const superAdmin = await connectAdmin(await tokenFor('admin'));
      cleanups.push(() => superAdmin.disconnect());
      const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes } = kafkajs;
      await superAdmin.createAcls({
        acl: [
          {
            principal: `User:${username}`,
            host: '*',
            resourceType: AclResourceTypes.TOPIC,
            resourceName: 'payments',
            resourcePatternType: ResourcePatternTypes.LITERAL,
            operation: AclOperationTypes.DESCRIBE,
            permissionType: AclPermissionTypes.ALLOW,
          },
        ],
      });
      const visible = await admin.listTopics();
      assert.deepEqual(visible, ['payments'], `the grant to User:${username} applies to this token`);
    });
  });
});
