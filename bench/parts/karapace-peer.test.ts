import assert from 'node:assert/strict';
import { jsonRecordValue } from './karapace-peer.ts';

describe('karapace-peer', () => {
  it('makes JSON record values that serialise to exactly the requested size', () => {
    for (const bytes of [256, 1024, 4096]) {
      assert.equal(Buffer.byteLength(JSON.stringify(jsonRecordValue(bytes))), bytes);
    }
  });
});
