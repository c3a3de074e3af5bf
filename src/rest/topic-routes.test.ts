import assert from 'node:assert/strict';
import { ServiceError } from '../errors.ts';
import { KafkaError } from '../kafka/kafka-errors.ts';
import { sortedJson } from './respond.ts';
import { produceAnswerJson, visibleConfigs } from './topic-routes.ts';

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

describe('produceAnswerJson (the produce answer)', () => {
  const cases = [
    { key: null, value: null, offsets: [] },
    {
      key: null,
      value: null,
      offsets: [
        { partition: 0, offset: 41, error_code: null, error: null },
        { partition: 2, offset: 0, error_code: null, error: null },
      ],
    },
    {
      key: 3,
      value: 17,
      offsets: [
        { partition: 1, offset: 9007199254740991, error_code: null, error: null },
        {
          partition: null,
          offset: null,
          error_code: 2,
          error: 'Kafka did not acknowledge the record; "maybe"\n',
        },
        { partition: null, offset: null, error_code: 1, error: 'Unknown partition 7 of topic t\u2028' },
      ],
    },
  ];
  for (const [i, c] of cases.entries()) {
    it(`is byte for byte the contract's sorted compact JSON (case ${i + 1})`, () => {
      const expected = sortedJson({ offsets: c.offsets, value_schema_id: c.value, key_schema_id: c.key });
      assert.equal(produceAnswerJson(c.key, c.value, c.offsets), expected);
      assert.deepEqual(JSON.parse(produceAnswerJson(c.key, c.value, c.offsets)), {
        key_schema_id: c.key,
        offsets: c.offsets,
        value_schema_id: c.value,
      });
    });
  }
});
