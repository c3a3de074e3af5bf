import assert from 'node:assert/strict';
import { ServiceError } from '../errors.ts';
import { createCodec } from '../registry/schema-codec.ts';
import { subjectFor } from './schema-formats.ts';

describe('schema-formats subjectFor', () => {
  const cases: Array<[string, Parameters<typeof subjectFor>, string]> = [
    ['topic_name ignores the record name', ['topic_name', 'orders', 'value', 'shop.Order'], 'orders-value'],
    ['topic_name names keys too', ['topic_name', 'orders', 'key', null], 'orders-key'],
    ['record_name is the record name alone', ['record_name', 'orders', 'value', 'shop.Order'], 'shop.Order'],
    ['topic_record_name joins both', ['topic_record_name', 'orders', 'key', 'shop.Id'], 'orders-shop.Id'],
  ];
  for (const [name, args, subject] of cases) {
    it(name, () => assert.equal(subjectFor(...args), subject));
  }

  it('answers 42205 when the strategy needs a name the schema lacks', () => {
    assert.throws(
      () => subjectFor('record_name', 'orders', 'value', null),
      (err) => err instanceof ServiceError && err.code === 'SCHEMA_INVALID',
    );
  });

  it('takes record names as Karapace does: Avro full name, JSON Schema title, Protobuf first message', () => {
    const avro = JSON.stringify({ type: 'record', name: 'Order', namespace: 'shop', fields: [] });
    assert.equal(createCodec({ schemaType: 'AVRO', schema: avro }).recordName, 'shop.Order');
    assert.equal(createCodec({ schemaType: 'AVRO', schema: '"string"' }).recordName, null);
    assert.equal(createCodec({ schemaType: 'JSON', schema: '{"title":"Order"}' }).recordName, 'Order');
    assert.equal(createCodec({ schemaType: 'JSON', schema: '{"type":"object"}' }).recordName, null);
    const proto = 'syntax = "proto3"; package shop; enum E { A = 0; } message Order { string id = 1; }';
    assert.equal(createCodec({ schemaType: 'PROTOBUF', schema: proto }).recordName, 'shop.Order');
  });
});
