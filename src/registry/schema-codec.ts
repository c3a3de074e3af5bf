import { avroCodec } from './avro-codec.ts';
import type { SchemaCodec } from './codec.ts';
import { jsonSchemaCodec } from './json-schema-codec.ts';
import { protobufCodec } from './protobuf-codec.ts';
import type { RegisteredSchema } from './registry-client.ts';
import { RegistryError } from './registry-error.ts';

/**
 * Turns a registered schema into a codec for its embedded format: Avro with `avsc`, JSON Schema
 * with `ajv`, Protobuf with `protobufjs`. Output of `decode` is plain JSON (reference section 6).
 */

export type { SchemaCodec } from './codec.ts';

/** A codec for `registered`; invalid_schema when its type is not served or the schema is unusable. */
export function createCodec(registered: Pick<RegisteredSchema, 'schemaType' | 'schema'>): SchemaCodec {
  if (registered.schemaType === 'AVRO') return avroCodec(registered.schema);
  if (registered.schemaType === 'JSON') return jsonSchemaCodec(registered.schema);
  if (registered.schemaType === 'PROTOBUF') return protobufCodec(registered.schema);
  throw new RegistryError('invalid_schema', `schema type ${String(registered.schemaType)} is not served`);
}
