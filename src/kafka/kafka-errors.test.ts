import assert from 'node:assert/strict';
import kafkajs from 'kafkajs';
import { CODE_INFO, ServiceError } from '../errors.ts';
import { isUnknownTopic, KafkaError, tlsFailureOf, translateKafkaError } from './kafka-errors.ts';

/** The shapes kafkajs 2.2.4 throws, reduced to the fields the translation reads. */
const protocol = (type: string, retriable = false) =>
  Object.assign(new Error(`protocol ${type}`), { name: 'KafkaJSProtocolError', type, retriable });
const named = (name: string, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(`${name} happened`), { name, ...extra });

type Row = readonly [
  name: string,
  thrown: unknown,
  code: string,
  brokerError: string | null,
  retriable: boolean,
];

// biome-ignore format: one line per case keeps the table readable
const ROWS: readonly Row[] = [
  ['a topic authorization failure', protocol('TOPIC_AUTHORIZATION_FAILED'), 'KAFKA_AUTHZ_FAILED', 'TOPIC_AUTHORIZATION_FAILED', false],
  ['a group authorization failure', protocol('GROUP_AUTHORIZATION_FAILED'), 'KAFKA_AUTHZ_FAILED', 'GROUP_AUTHORIZATION_FAILED', false],
  ['a cluster authorization failure', protocol('CLUSTER_AUTHORIZATION_FAILED'), 'KAFKA_AUTHZ_FAILED', 'CLUSTER_AUTHORIZATION_FAILED', false],
  ['a SASL failure by protocol type', protocol('SASL_AUTHENTICATION_FAILED'), 'KAFKA_AUTH_FAILED', 'SASL_AUTHENTICATION_FAILED', false],
  ['a SASL failure by kafkajs name', named('KafkaJSSASLAuthenticationError'), 'KAFKA_AUTH_FAILED', null, false],
  ['an unknown topic (protocol error)', protocol('UNKNOWN_TOPIC_OR_PARTITION', true), 'KAFKA_ERROR', 'UNKNOWN_TOPIC_OR_PARTITION', true],
  ['a retriable protocol error keeps its retriability', protocol('NOT_LEADER_OR_FOLLOWER', true), 'KAFKA_ERROR', 'NOT_LEADER_OR_FOLLOWER', true],
  ['a connection error', named('KafkaJSConnectionError'), 'KAFKA_UNAVAILABLE', null, true],
  ['a closed connection', named('KafkaJSConnectionClosedError'), 'KAFKA_UNAVAILABLE', null, true],
  ['no broker available', named('KafkaJSNoBrokerAvailableError'), 'KAFKA_UNAVAILABLE', null, true],
  ['a request timeout', named('KafkaJSRequestTimeoutError'), 'KAFKA_UNAVAILABLE', null, true],
  ['retries exhausted without a protocol error', named('KafkaJSNumberOfRetriesExceeded'), 'KAFKA_UNAVAILABLE', null, true],
  ['a non-retriable wrapper without a protocol error', named('KafkaJSNonRetriableError'), 'KAFKA_UNAVAILABLE', null, true],
  ['retries exhausted around an authorization failure', named('KafkaJSNumberOfRetriesExceeded', { originalError: protocol('TOPIC_AUTHORIZATION_FAILED') }), 'KAFKA_AUTHZ_FAILED', 'TOPIC_AUTHORIZATION_FAILED', false],
  ['an aggregate whose first error is a protocol error', named('KafkaJSAggregateError', { errors: [protocol('GROUP_AUTHORIZATION_FAILED')] }), 'KAFKA_AUTHZ_FAILED', 'GROUP_AUTHORIZATION_FAILED', false],
  ['a cause chain', named('KafkaJSError', { cause: named('KafkaJSConnectionError') }), 'KAFKA_UNAVAILABLE', null, true],
  ['a plain error', new Error('something else'), 'KAFKA_ERROR', null, false],
  ['a thrown string', 'boom', 'KAFKA_ERROR', null, false],
  ['a thrown null', null, 'KAFKA_ERROR', null, false],
];

describe('translateKafkaError', () => {
  for (const [name, thrown, code, brokerError, retriable] of ROWS) {
    it(`translates ${name} to ${code}`, () => {
      const err = translateKafkaError(thrown);
      assert.ok(err instanceof KafkaError);
      assert.ok(err instanceof ServiceError, 'callers see one of our codes');
      assert.equal(err.code, code);
      assert.equal(err.brokerError, brokerError);
      assert.equal(err.retriable, retriable);
      if (thrown !== null && typeof thrown === 'object') assert.equal(err.cause, thrown);
    });
  }

  it('passes an already translated error through unchanged', () => {
    const err = new KafkaError('KAFKA_UNAVAILABLE', 'down', null, true);
    assert.equal(translateKafkaError(err), err);
  });

  it('keeps the code of one of our own errors', () => {
    const err = translateKafkaError(new ServiceError('TOPIC_NOT_FOUND', 'Topic x not found'));
    assert.equal(err.code, 'TOPIC_NOT_FOUND');
    assert.equal(err.message, 'Topic x not found');
  });

  it('gives up looking for a protocol error after a bounded depth', () => {
    let chain: object = protocol('TOPIC_AUTHORIZATION_FAILED');
    for (let i = 0; i < 20; i++) chain = named('KafkaJSError', { cause: chain });
    assert.equal(translateKafkaError(chain).code, 'KAFKA_ERROR');
  });
});

describe('isUnknownTopic', () => {
  it('names the broker answers that a topic does not exist', () => {
    assert.equal(isUnknownTopic(translateKafkaError(protocol('UNKNOWN_TOPIC_OR_PARTITION'))), true);
    assert.equal(isUnknownTopic(translateKafkaError(protocol('UNKNOWN_TOPIC_ID'))), true);
    assert.equal(isUnknownTopic(translateKafkaError(protocol('TOPIC_AUTHORIZATION_FAILED'))), false);
  });
});

/** The shape kafkajs throws for a broker error code, wrapped as its retry loop wraps it. */
function wrappedBrokerError(type: string, retriable = false) {
  const inner = Object.assign(new Error(`broker said ${type}`), {
    name: 'KafkaJSProtocolError',
    type,
    retriable,
  });
  return Object.assign(new Error('retries exhausted'), {
    name: 'KafkaJSNumberOfRetriesExceeded',
    originalError: inner,
  });
}

describe("translateKafkaError: the caller's own bad requests", () => {
  // Issue 9: a broker refusing the caller's request was passed on as 500/50002.
  for (const type of [
    'INVALID_TOPIC_EXCEPTION',
    'INVALID_REQUEST',
    'MESSAGE_TOO_LARGE',
    'INVALID_PARTITIONS',
  ]) {
    it(`makes ${type} the caller's 422`, () => {
      const err = translateKafkaError(wrappedBrokerError(type));
      assert.equal(err.code, 'KAFKA_REQUEST_INVALID');
      assert.equal(err.brokerError, type);
      assert.equal(CODE_INFO[err.code].http, 422);
      assert.equal(CODE_INFO[err.code].restCode, 422);
    });
  }

  it('keeps other broker errors as Kafka errors', () => {
    assert.equal(translateKafkaError(wrappedBrokerError('NOT_LEADER_OR_FOLLOWER', true)).code, 'KAFKA_ERROR');
  });

  it('keeps authorization failures as 403s', () => {
    assert.equal(
      translateKafkaError(wrappedBrokerError('TOPIC_AUTHORIZATION_FAILED')).code,
      'KAFKA_AUTHZ_FAILED',
    );
  });
});

const { KafkaJSConnectionError, KafkaJSNumberOfRetriesExceeded } = kafkajs;

/** What kafkajs throws after its retries when every connection attempt failed with `code`. */
function afterRetries(code: string): Error {
  const connection = new KafkaJSConnectionError(`Connection error: ${code}`, { broker: '127.0.0.1:1', code });
  return new KafkaJSNumberOfRetriesExceeded(connection, { retryCount: 3, retryTime: 100 });
}

describe('tlsFailureOf', () => {
  // biome-ignore format: one line per case keeps the table readable
  const ROWS: ReadonlyArray<readonly [string, string, string | null]> = [
    ['a certificate from a CA we do not trust', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'untrusted'],
    ['a self-signed certificate', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'untrusted'],
    ['an expired certificate', 'CERT_HAS_EXPIRED', 'expired'],
    ['a certificate for another host', 'ERR_TLS_CERT_ALTNAME_INVALID', 'hostname_mismatch'],
    ['a plaintext listener answering a TLS hello', 'ERR_SSL_WRONG_VERSION_NUMBER', 'handshake'],
    ['a refused connection (not TLS)', 'ECONNREFUSED', null],
  ];
  for (const [name, code, reason] of ROWS) {
    it(`names ${name}: ${reason ?? 'not a TLS failure'}`, () => {
      assert.equal(tlsFailureOf(afterRetries(code)), reason);
    });
  }

  it('keeps the reason through translation, as a retryable KAFKA_UNAVAILABLE', () => {
    const translated = translateKafkaError(afterRetries('CERT_HAS_EXPIRED'));
    assert.equal(translated.code, 'KAFKA_UNAVAILABLE');
    assert.equal(translated.tlsFailure, 'expired');
    assert.equal(translateKafkaError(afterRetries('ECONNREFUSED')).tlsFailure, null);
  });
});
