import assert from 'node:assert/strict';
import { sortedJson, sortKeysDeep } from './respond.ts';

describe('response JSON', () => {
  it('sorts object keys at every level and keeps array order', () => {
    const value = { b: 1, a: { d: [3, { z: 1, y: 2 }], c: null } };
    assert.equal(sortedJson(value), '{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}');
    assert.equal(JSON.stringify(sortKeysDeep(value)), sortedJson(value));
  });

  it('leaves scalars alone', () => {
    for (const v of [null, 1, 'x', true]) assert.equal(sortKeysDeep(v), v);
  });
});
