import assert from 'node:assert/strict';
import { CODE_INFO } from '../errors.ts';
import { translateKafkaError } from './kafka-errors.ts';

/** The shape kafkajs throws for a broker error code, wrapped as its retry loop wraps it. */
function brokerError(type: string, retriable = false) {
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

describe('translateKafkaError', () => {
  // Issue 9: a broker refusing the caller's request was passed on as 500/50002.
  for (const type of [
    'INVALID_TOPIC_EXCEPTION',
    'INVALID_REQUEST',
    'MESSAGE_TOO_LARGE',
    'INVALID_PARTITIONS',
  ]) {
    it(`makes ${type} the caller's 422`, () => {
      const err = translateKafkaError(brokerError(type));
      assert.equal(err.code, 'KAFKA_REQUEST_INVALID');
      assert.equal(err.brokerError, type);
      assert.equal(CODE_INFO[err.code].http, 422);
      assert.equal(CODE_INFO[err.code].restCode, 422);
    });
  }

  it('keeps other broker errors as Kafka errors', () => {
    assert.equal(translateKafkaError(brokerError('NOT_LEADER_OR_FOLLOWER', true)).code, 'KAFKA_ERROR');
  });

  it('keeps authorization failures as 403s', () => {
    assert.equal(translateKafkaError(brokerError('TOPIC_AUTHORIZATION_FAILED')).code, 'KAFKA_AUTHZ_FAILED');
  });
});
