import assert from 'node:assert/strict';
import type { AuthenticationProviderArgs } from 'kafkajs';
import { CODE_INFO, type ErrorCode } from '../errors.ts';
import { translateKafkaError } from './kafka-errors.ts';
import { createOauthBearerMechanism, isTokenRejection } from './oauthbearer-authenticator.ts';

type Exchange = (payload: string) => Buffer | Error;

const CODE_HTTP = (code: ErrorCode) => CODE_INFO[code].http;

// Drives the mechanism the way kafkajs does: encode the request, hand back the broker's bytes
// (length-prefixed, as kafkajs passes them to decode) and parse them.
function runAuthentication(exchange: Exchange) {
  const sent: string[] = [];
  const saslAuthenticate = (async ({
    request,
    response,
  }: Parameters<AuthenticationProviderArgs['saslAuthenticate']>[0]) => {
    const framed = (await request.encode()) as Buffer;
    const payload = framed.subarray(4).toString('utf8');
    assert.equal(framed.readInt32BE(0), framed.length - 4);
    sent.push(payload);
    const answer = exchange(payload);
    if (answer instanceof Error) throw answer;
    const raw = Buffer.alloc(4 + answer.length);
    raw.writeInt32BE(answer.length, 0);
    answer.copy(raw, 4);
    return response ? response.parse(await response.decode(raw)) : undefined;
  }) as AuthenticationProviderArgs['saslAuthenticate'];
  const mechanism = createOauthBearerMechanism(async () => ({ value: 'header.payload.signature' }));
  const authenticator = mechanism.authenticationProvider({
    host: '127.0.0.1',
    port: 9092,
    logger: {} as AuthenticationProviderArgs['logger'],
    saslAuthenticate,
  });
  return { sent, done: authenticator.authenticate() };
}

describe('OAUTHBEARER mechanism', () => {
  it('sends the RFC 7628 initial response and succeeds on an empty answer', async () => {
    const { sent, done } = runAuthentication(() => Buffer.alloc(0));
    await done;
    assert.deepEqual(sent, ['n,,\u0001auth=Bearer header.payload.signature\u0001\u0001']);
  });

  // Issue 11: the broker's refusal reached callers as 503 "Kafka unavailable".
  it("reads the broker's error challenge, finishes with %x01 and raises a marked refusal", async () => {
    const { sent, done } = runAuthentication((payload) =>
      payload === '\u0001'
        ? new Error('Authentication failed during authentication due to invalid credentials')
        : Buffer.from('{"status":"invalid_token","scope":""}'),
    );
    const err = await done.then(
      () => assert.fail('expected a refusal'),
      (e: unknown) => e,
    );
    assert.equal(sent.length, 2);
    assert.equal(sent[1], '\u0001');
    assert.ok(isTokenRejection(err));
    assert.match(err.brokerReason, /status invalid_token: Authentication failed/);
    assert.ok(!err.message.includes('header.payload.signature'), 'the token is never in the message');
    assert.equal(translateKafkaError(err).code, 'KAFKA_TOKEN_REJECTED');
    // kafkajs wraps errors in retries: the refusal is found inside.
    const wrapped = Object.assign(new Error('retries exhausted'), {
      name: 'KafkaJSNumberOfRetriesExceeded',
      cause: err,
    });
    assert.equal(translateKafkaError(wrapped).code, 'KAFKA_TOKEN_REJECTED');
    assert.equal(CODE_HTTP(translateKafkaError(wrapped).code), 401);
  });

  it('fails as a plain SASL authentication error when there is no token to send', async () => {
    const mechanism = createOauthBearerMechanism(async () => {
      throw new Error('the session token expired');
    });
    const authenticator = mechanism.authenticationProvider({
      host: '127.0.0.1',
      port: 9092,
      logger: {} as AuthenticationProviderArgs['logger'],
      saslAuthenticate: (async () => undefined) as AuthenticationProviderArgs['saslAuthenticate'],
    });
    const err = await authenticator.authenticate().then(
      () => assert.fail('expected a failure'),
      (e: unknown) => e as Error,
    );
    assert.equal(err.name, 'KafkaJSSASLAuthenticationError');
    assert.equal(isTokenRejection(err), false);
    assert.equal(translateKafkaError(err).code, 'KAFKA_AUTH_FAILED');
  });
});
