import assert from 'node:assert/strict';
import { ServiceError } from '../errors.ts';
import { KafkaError } from '../kafka/kafka-errors.ts';
import { visibleConfigs } from './topic-routes.ts';

const entry = (name: string, value: string | null, isSensitive = false) => ({
  name,
  value,
  isDefault: false,
  isReadOnly: false,
  isSensitive,
  source: '',
});

describe('visibleConfigs (GET /topics/{topic})', () => {
  it('shows non-sensitive configs with a value', async () => {
    const configs = await visibleConfigs(async () => [
      entry('retention.ms', '1000'),
      entry('sasl.jaas.config', 'secret', true),
      entry('unset', null),
    ]);
    assert.deepEqual(configs, { 'retention.ms': '1000' });
  });

  it('shows no configs when only DESCRIBE_CONFIGS is refused', async () => {
    const denied = new KafkaError('KAFKA_AUTHZ_FAILED', 'no', 'TOPIC_AUTHORIZATION_FAILED', false);
    assert.deepEqual(await visibleConfigs(() => Promise.reject(denied)), {});
    const hidden = new ServiceError('TOPIC_NOT_FOUND', 'Topic x not found', { cause: denied });
    assert.deepEqual(await visibleConfigs(() => Promise.reject(hidden)), {});
  });

  // Regression (issue 10): every ServiceError used to be swallowed, Kafka being down included.
  for (const err of [
    new KafkaError('KAFKA_UNAVAILABLE', 'down', null, true),
    new KafkaError('KAFKA_ERROR', 'odd', 'UNKNOWN_SERVER_ERROR', false),
    new ServiceError('TOPIC_NOT_FOUND', 'Topic x not found'),
    new TypeError('bug'),
  ]) {
    it(`fails the request on ${err instanceof ServiceError ? err.code : err.name}`, async () => {
      await assert.rejects(
        visibleConfigs(() => Promise.reject(err)),
        (thrown) => thrown === err,
      );
    });
  }
});
