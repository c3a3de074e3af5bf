import assert from 'node:assert/strict';
import type { FetchedRecord } from '../kafka/consumer-types.ts';
import { type DataFormat, decodeField } from './record-format.ts';
import { decodedJson, plainRecordsBody, RecordsBody } from './records-body.ts';
import { sortKeysDeep } from './respond.ts';

/**
 * The records answer as fetchRecords built it before records-body.ts: objects with their keys
 * in sorted order, one JSON.stringify of the array, encoded as UTF-8. The byte writer must give
 * the same bytes (and so the same ETag).
 */
function stringifiedBody(records: readonly FetchedRecord[], format: DataFormat): Buffer {
  const plainKey = (key: Buffer | null): unknown => {
    try {
      return decodeField(format, key, 'key');
    } catch {
      return key?.toString('base64') ?? null;
    }
  };
  const out = records.map((r) => ({
    headers:
      r.headers.length > 0
        ? r.headers.map((h) => ({ key: h.key, value: h.value === null ? null : h.value.toString('base64') }))
        : undefined,
    key: sortKeysDeep(plainKey(r.key)),
    offset: r.offset,
    partition: r.partition,
    timestamp: r.timestamp,
    topic: r.topic,
    value: sortKeysDeep(decodeField(format, r.value, 'value')),
  }));
  return Buffer.from(JSON.stringify(out), 'utf8');
}

function record(overrides: Partial<FetchedRecord> = {}): FetchedRecord {
  return {
    topic: 'orders.eu',
    partition: 0,
    offset: 42,
    timestamp: 1700000000000,
    key: null,
    value: Buffer.from('{"seq":1,"region":"eu","payload":"x"}'),
    headers: [],
    ...overrides,
  };
}

const json = (text: string) => Buffer.from(text, 'utf8');

/** Values written straight from their bytes, values that take the parse path, and the edges. */
const JSON_RECORDS: Array<[string, FetchedRecord]> = [
  ['an unsorted object', record()],
  ['a sorted compact object', record({ value: json('{"a":1,"b":[true,false,null],"c":"d"}') })],
  ['pretty-printed JSON', record({ value: json('{\n  "b": 1,\n  "a": [ 1, 2 ]\n}\n') })],
  ['a \\u escape and \\/', record({ value: json('{"s":"\\u00e9\\/\\n"}') })],
  ['numbers in other forms', record({ value: json('[1.50,1e3,-0,0.1,9007199254740993,-12]') })],
  ['non-ASCII text and keys', record({ value: json('{"ü":"✓ 日本","a":"😀"}') })],
  ['digit keys', record({ value: json('{"10":1,"9":2,"a":3}') })],
  ['duplicate keys', record({ value: json('{"a":1,"b":2,"a":3}') })],
  ['a __proto__ key', record({ value: json('{"__proto__":{"x":1},"a":1}') })],
  ['a scalar value', record({ value: json('"just a string"') })],
  ['a null value', record({ value: null })],
  ['an empty value', record({ value: Buffer.alloc(0) })],
  ['a JSON key', record({ key: json('{"id":7,"at":"x"}') })],
  ['a key that is not JSON', record({ key: json('not json') })],
  ['an empty key', record({ key: Buffer.alloc(0) })],
  [
    'headers, also null and non-ASCII',
    record({
      headers: [
        { key: 'trace', value: json('abc') },
        { key: 'nothing', value: null },
        { key: 'ключ "q"', value: Buffer.alloc(0) },
      ],
    }),
  ],
  ['no timestamp', record({ timestamp: null })],
  ['another topic and partition', record({ topic: 'orders.us', partition: 3, offset: 9000000000 })],
];

describe('plainRecordsBody', () => {
  it('writes every json record exactly as stringifying the sorted record objects did', () => {
    for (const [name, r] of JSON_RECORDS) {
      assert.equal(
        plainRecordsBody([r], 'json').toString('utf8'),
        stringifiedBody([r], 'json').toString('utf8'),
        name,
      );
    }
    const all = JSON_RECORDS.map(([, r]) => r);
    assert.deepEqual(plainRecordsBody(all, 'json'), stringifiedBody(all, 'json'));
  });

  it('writes binary records exactly as before, base64 keys, values and headers', () => {
    const records = [
      record({ key: json('k1'), value: Buffer.from([0, 255, 1, 2]) }),
      record({ value: null, headers: [{ key: 'h', value: Buffer.from([9]) }] }),
      record({ key: Buffer.alloc(0), value: Buffer.alloc(5000, 7) }),
    ];
    assert.deepEqual(plainRecordsBody(records, 'binary'), stringifiedBody(records, 'binary'));
  });

  it('answers an empty fetch with []', () => {
    assert.equal(plainRecordsBody([], 'json').toString(), '[]');
    assert.equal(plainRecordsBody([], 'binary').toString(), '[]');
  });

  it('grows past its first estimate (many records, large values)', () => {
    const big = JSON.stringify({ z: 'é'.repeat(3000), a: Array.from({ length: 500 }, (_, i) => i * 1.5) });
    const records = Array.from({ length: 200 }, (_, i) => record({ offset: i, value: json(big) }));
    assert.deepEqual(plainRecordsBody(records, 'json'), stringifiedBody(records, 'json'));
    assert.deepEqual(plainRecordsBody(records, 'binary'), stringifiedBody(records, 'binary'));
  });

  it('fails a value that is not JSON with 422, as decoding did', () => {
    for (const text of ['{"a":', 'nope', '{"a":1} trailing', '"\u0001"']) {
      assert.throws(
        () => plainRecordsBody([record({ value: json(text) })], 'json'),
        (err: { code?: string }) => err.code === 'REQUEST_UNPROCESSABLE',
        text,
      );
    }
  });
});

describe('RecordsBody.add (schema formats)', () => {
  it('writes decoded values as stringifying the record objects did, leaving out undefined ones', () => {
    const values: unknown[] = [
      { b: 1, a: { d: 2, c: [3] } },
      'text',
      12.5,
      null,
      undefined,
      [{ y: 1, x: 2 }],
    ];
    const records = values.map((_, i) => record({ offset: i }));
    const body = new RecordsBody(records);
    records.forEach((r, i) => {
      body.add(r, decodedJson(i % 2 === 0 ? undefined : { k: i }), decodedJson(values[i]));
    });
    const expected = records.map((r, i) => ({
      headers: undefined,
      key: i % 2 === 0 ? undefined : { k: i },
      offset: r.offset,
      partition: r.partition,
      timestamp: r.timestamp,
      topic: r.topic,
      value: sortKeysDeep(values[i]),
    }));
    assert.equal(body.finish().toString('utf8'), JSON.stringify(expected));
  });
});
