import assert from 'node:assert/strict';
import type { ServiceError } from '../errors.ts';
import { decodeBase64, decodeField, encodeField } from './record-format.ts';

describe('decodeBase64 (binary keys, values and headers)', () => {
  // What the contract takes as base64 text: the standard alphabet, at most two `=` at the end,
  // a length that is a multiple of 4.
  const RULE = /^[A-Za-z0-9+/]*={0,2}$/;
  const valid = (text: string) => text.length % 4 === 0 && RULE.test(text);

  it('decodes standard base64, padded or not', () => {
    assert.deepEqual(decodeBase64('AAEC/w=='), Buffer.from([0, 1, 2, 255]));
    assert.deepEqual(decodeBase64('YWI='), Buffer.from('ab'));
    assert.deepEqual(decodeBase64('YWJj'), Buffer.from('abc'));
    assert.deepEqual(decodeBase64(''), Buffer.alloc(0));
  });

  it('refuses what Node would quietly skip or reinterpret', () => {
    for (const text of [
      'YQ',
      'YQ=a',
      'Y===',
      'YQ==YQ==',
      'Y Q=',
      'YQ\n=',
      'YW-j',
      'YW_j',
      'YWé=',
      'YW%j',
      '====',
    ]) {
      assert.equal(decodeBase64(text), null, JSON.stringify(text));
    }
  });

  it('accepts exactly the texts the contract calls base64 (generated strings)', () => {
    const alphabet = 'AQaz09+/=-_ \n.!é%';
    let seed = 1;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed;
    };
    for (let n = 0; n < 50000; n++) {
      let text = '';
      for (let k = next() % 13; k > 0; k--) text += alphabet[next() % alphabet.length];
      const bytes = decodeBase64(text);
      assert.equal(bytes !== null, valid(text), JSON.stringify(text));
      if (bytes) assert.deepEqual(bytes, Buffer.from(text, 'base64'));
    }
  });
});

describe('embedded formats', () => {
  it('round-trips binary through base64', () => {
    const bytes = encodeField('binary', 'AAEC/w==', 'value');
    assert.deepEqual(bytes, Buffer.from([0, 1, 2, 255]));
    assert.equal(decodeField('binary', bytes, 'value'), 'AAEC/w==');
  });

  it('rejects a binary value that is not base64 with 400', () => {
    assert.throws(
      () => encodeField('binary', 'not base64!', 'value'),
      (e: ServiceError) => e.httpStatus === 400,
    );
    assert.throws(
      () => encodeField('binary', 42, 'value'),
      (e: ServiceError) => e.httpStatus === 400,
    );
  });

  it('writes json values as compact JSON text and reads them back', () => {
    const bytes = encodeField('json', { a: [1, 2], b: 'x' }, 'value');
    assert.equal(bytes?.toString(), '{"a":[1,2],"b":"x"}');
    assert.deepEqual(decodeField('json', bytes, 'value'), { a: [1, 2], b: 'x' });
  });

  it('treats null and absent as no key / null value', () => {
    assert.equal(encodeField('json', null, 'key'), null);
    assert.equal(encodeField('json', undefined, 'key'), null);
  });

  for (const falsy of [0, '', false, {}, []]) {
    it(`writes the falsy value ${JSON.stringify(falsy)} as empty bytes, not a tombstone`, () => {
      assert.deepEqual(encodeField('json', falsy, 'value'), Buffer.alloc(0));
    });
  }

  it('reads empty bytes back as null', () => {
    assert.equal(decodeField('json', Buffer.alloc(0), 'value'), null);
    assert.equal(decodeField('binary', null, 'value'), null);
  });

  it('answers 422 for a fetched json value that is not JSON', () => {
    assert.throws(
      () => decodeField('json', Buffer.from('{oops'), 'value'),
      (e: ServiceError) => e.httpStatus === 422,
    );
  });
});
