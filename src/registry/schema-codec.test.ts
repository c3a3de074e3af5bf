import assert from 'node:assert/strict';
import protobuf from 'protobufjs';
import { decodeIndexes, encodeIndexes } from './protobuf-codec.ts';
import { RegistryError } from './registry-error.ts';
import { createCodec } from './schema-codec.ts';

const isKind = (kind: string) => (err: unknown) => err instanceof RegistryError && err.kind === kind;

describe('schema-codec', () => {
  describe('avro', () => {
    const user = JSON.stringify({
      type: 'record',
      name: 'User',
      fields: [
        { name: 'name', type: 'string' },
        { name: 'nick', type: ['null', 'string'], default: null },
        { name: 'avatar', type: 'bytes' },
      ],
    });
    const codec = createCodec({ schemaType: 'AVRO', schema: user });

    it('round-trips a record, with unions untagged and bytes as base64 on the way out', () => {
      const bytes = codec.encode({ name: 'Ann', nick: 'a', avatar: Buffer.from([1, 2]) });
      assert.deepEqual(codec.decode(bytes), { name: 'Ann', nick: 'a', avatar: 'AQI=' });
    });

    it('takes tagged union values on produce, writing the same bytes as untagged ones', () => {
      const tagged = codec.encode({ name: 'Ann', nick: { string: 'a' }, avatar: Buffer.alloc(0) });
      const plain = codec.encode({ name: 'Ann', nick: 'a', avatar: Buffer.alloc(0) });
      assert.deepEqual(tagged, plain);
    });

    it('refuses data that does not fit, and schemas that are not Avro', () => {
      assert.throws(() => codec.encode({ name: 3 }), isKind('invalid_data'));
      assert.throws(
        () => createCodec({ schemaType: 'AVRO', schema: '{"type":"nonsense"}' }),
        isKind('invalid_schema'),
      );
      assert.throws(() => codec.decode(Buffer.from([0xff])), isKind('invalid_data'));
    });
  });

  describe('jsonschema', () => {
    const codec = createCodec({
      schemaType: 'JSON',
      schema: JSON.stringify({ type: 'object', properties: { id: { type: 'integer' } }, required: ['id'] }),
    });

    it('writes valid values as JSON text and reads them back', () => {
      const bytes = codec.encode({ id: 7 });
      assert.equal(bytes.toString('utf8'), '{"id":7}');
      assert.deepEqual(codec.decode(bytes), { id: 7 });
    });

    it('refuses invalid values on both sides', () => {
      assert.throws(() => codec.encode({ id: 'x' }), isKind('invalid_data'));
      assert.throws(() => codec.decode(Buffer.from('{"id":"x"}')), isKind('invalid_data'));
      assert.throws(() => codec.decode(Buffer.from('{')), isKind('invalid_data'));
    });
  });

  describe('protobuf', () => {
    const schema = `syntax = "proto3";
package shop;
message Order {
  string order_id = 1;
  int64 amount = 2;
  Status status = 3;
  message Line { string sku = 1; }
  repeated Line lines = 4;
}
enum Status { NEW = 0; PAID = 1; }
message Other { bool flag = 1; }
`;
    const codec = createCodec({ schemaType: 'PROTOBUF', schema });

    it('writes the first message with the index path [0] and reads it back with every field', () => {
      const bytes = codec.encode({ order_id: 'o-1', amount: 12, status: 'PAID' });
      assert.equal(bytes[0], 0, 'index path [0] is the single byte 0');
      assert.deepEqual(codec.decode(bytes), { order_id: 'o-1', amount: 12, status: 'PAID', lines: [] });
    });

    it('reads a message named by a longer index path (Confluent zigzag varints)', () => {
      const { root } = protobuf.parse(schema, { keepCase: true });
      const other = root.lookupType('shop.Other');
      const payload = Buffer.concat([encodeIndexes([1]), Buffer.from(other.encode({ flag: true }).finish())]);
      assert.deepEqual(codec.decode(payload), { flag: true });
      const line = root.lookupType('shop.Order.Line');
      const nested = Buffer.concat([encodeIndexes([0, 0]), Buffer.from(line.encode({ sku: 's' }).finish())]);
      assert.deepEqual(codec.decode(nested), { sku: 's' });
    });

    it('encodes index paths as Confluent does', () => {
      assert.deepEqual([...encodeIndexes([0])], [0]);
      assert.deepEqual([...encodeIndexes([1])], [2, 2]);
      assert.deepEqual(decodeIndexes(Buffer.from([4, 2, 0, 9])), { indexes: [1, 0], offset: 3 });
    });

    it('refuses values that do not fit, unknown index paths and schemas without messages', () => {
      assert.throws(() => codec.encode({ order_id: 5 }), isKind('invalid_data'));
      assert.throws(() => codec.encode('text'), isKind('invalid_data'));
      assert.throws(() => codec.decode(Buffer.from([2, 18])), isKind('invalid_data'));
      assert.throws(
        () => createCodec({ schemaType: 'PROTOBUF', schema: 'syntax = "proto3"; enum E { A = 0; }' }),
        isKind('invalid_schema'),
      );
    });
  });
});
