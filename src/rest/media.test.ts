import assert from 'node:assert/strict';
import { negotiateAccept, requestFormat } from './media.ts';

describe('request Content-Type', () => {
  const accepted: Array<[string | undefined, string]> = [
    [undefined, 'binary'],
    ['application/json', 'binary'],
    ['application/octet-stream', 'binary'],
    ['application/vnd.kafka.v2+json', 'binary'],
    ['application/vnd.kafka.v1+json', 'binary'],
    ['application/vnd.kafka+json', 'binary'],
    ['application/vnd.kafka.json.v2+json', 'json'],
    ['application/vnd.kafka.binary.v2+json; charset=utf-8', 'binary'],
    ['Application/VND.Kafka.JSON.v1+JSON', 'json'],
    ['application/vnd.kafka.avro+json', 'avro'],
    ['application/vnd.kafka.jsonschema.v2+json', 'jsonschema'],
    ['application/vnd.kafka.protobuf.v2+json', 'protobuf'],
  ];
  for (const [type, format] of accepted) {
    it(`accepts ${type ?? '(absent)'} as ${format}`, () => assert.equal(requestFormat(type), format));
  }
  const rejected = [
    'application/vnd.kafka.v3+json',
    'application/vnd.kafka.binary.v1+foo',
    'application/vnd.kafka.avro.v0+json',
    'application/vnd.kafka.json+avro',
    'application/vnd.kafka',
    'application/vnd.kafka+binary',
    'application/text',
    'bar/baz',
  ];
  for (const type of rejected) {
    it(`rejects ${type} (415)`, () => assert.equal(requestFormat(type), null));
  }
});

describe('Accept negotiation', () => {
  const acceptable: Array<[string | undefined, string | null]> = [
    [undefined, null],
    ['application/vnd.kafka.v2+json', null],
    ['application/vnd.kafka.json.v2+json', 'json'],
    ['application/vnd.kafka.binary.v2+json', 'binary'],
    ['application/vnd.kafka+json', null],
    ['application/json', null],
    ['application/*', null],
    ['*/json', null],
    ['*/*', null],
    ['text/html, application/vnd.kafka.json.v2+json;q=0.5', 'json'],
  ];
  for (const [accept, format] of acceptable) {
    it(`accepts ${accept ?? '(absent)'}`, () => {
      const result = negotiateAccept(accept);
      assert.equal(result.acceptable, true);
      assert.equal(result.format, format);
    });
  }
  const rejected = [
    'application/octet-stream',
    'application/vnd.kafka+foo',
    'application/text',
    'foo/*',
    'bar/json',
    '*/baz',
    'text/html',
  ];
  for (const accept of rejected) {
    it(`rejects ${accept} (406)`, () => assert.equal(negotiateAccept(accept).acceptable, false));
  }
});
