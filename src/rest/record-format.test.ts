import assert from 'node:assert/strict';
import type { ServiceError } from '../errors.ts';
import { decodeField, encodeField } from './record-format.ts';

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
