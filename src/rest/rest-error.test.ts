import assert from 'node:assert/strict';
import { ServiceError } from '../errors.ts';
import { fromServiceError } from './rest-error.ts';

describe('fromServiceError', () => {
  // Issue 13: a client must be able to tell "try again shortly" from a failure.
  it('answers an unavailable Kafka with a retryable 503 and Retry-After', () => {
    const error = fromServiceError(new ServiceError('KAFKA_UNAVAILABLE', 'no broker'));
    assert.equal(error.status, 503);
    assert.ok(Number(error.headers['retry-after']) > 0);
  });

  it('gives no Retry-After to errors that retrying will not fix', () => {
    assert.equal(
      fromServiceError(new ServiceError('KAFKA_AUTHZ_FAILED', 'x')).headers['retry-after'],
      undefined,
    );
  });
});
