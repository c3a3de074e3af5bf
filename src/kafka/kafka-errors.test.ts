import assert from 'node:assert/strict';
import kafkajs from 'kafkajs';
import { tlsFailureOf, translateKafkaError } from './kafka-errors.ts';

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
