/** One schema's encoder and decoder for the payload after the wire header (see schema-codec.ts). */
export interface SchemaCodec {
  /** Payload bytes (without the wire header) for `value`; invalid_data when it does not fit. */
  encode(value: unknown): Buffer;
  /** The value of a payload; invalid_data when it does not decode. */
  decode(payload: Buffer): unknown;
}
