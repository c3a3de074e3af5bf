/** One schema's encoder and decoder for the payload after the wire header (see schema-codec.ts). */
export interface SchemaCodec {
  /** The name subject strategies use: Avro's full name, JSON Schema's title, Protobuf's first message; null when none. */
  readonly recordName: string | null;
  /** Payload bytes (without the wire header) for `value`; invalid_data when it does not fit. */
  encode(value: unknown): Buffer;
  /** The value of a payload; invalid_data when it does not decode. */
  decode(payload: Buffer): unknown;
}
