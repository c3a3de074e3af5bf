import assert from 'node:assert/strict';
import { RegistryError } from './registry-error.ts';
import { decodeWire, encodeWire } from './wire-format.ts';

describe('wire-format', () => {
  it('frames a payload with magic byte 0 and the big-endian schema id', () => {
    const framed = encodeWire(0x01020304, Buffer.from([9, 8]));
    assert.deepEqual([...framed], [0, 1, 2, 3, 4, 9, 8]);
    const { schemaId, payload } = decodeWire(framed);
    assert.equal(schemaId, 0x01020304);
    assert.deepEqual([...payload], [9, 8]);
  });

  it('refuses bytes without the magic byte, and bytes shorter than the header', () => {
    for (const bytes of [Buffer.from('{"a":1}'), Buffer.from([0, 0, 1])]) {
      assert.throws(
        () => decodeWire(bytes),
        (err) => err instanceof RegistryError && err.kind === 'not_wire_format',
      );
    }
  });
});
