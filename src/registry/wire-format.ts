import { RegistryError } from './registry-error.ts';

/**
 * Confluent's wire format for schema-registry data: magic byte 0, the schema id as a 4-byte
 * big-endian integer, then the payload (for Protobuf, the message-index path first).
 */

const MAGIC = 0;
const HEADER_BYTES = 5;

export function encodeWire(schemaId: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt8(MAGIC, 0);
  header.writeUInt32BE(schemaId, 1);
  return Buffer.concat([header, payload]);
}

/** Splits framed bytes; not_wire_format when the magic byte or the header is missing. */
export function decodeWire(bytes: Buffer): { schemaId: number; payload: Buffer } {
  if (bytes.length < HEADER_BYTES || bytes.readUInt8(0) !== MAGIC) {
    throw new RegistryError(
      'not_wire_format',
      'not in the schema registry wire format (magic byte 0, 4-byte id)',
    );
  }
  return { schemaId: bytes.readUInt32BE(1), payload: bytes.subarray(HEADER_BYTES) };
}
