import AjvDraft7 from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import avro from 'avsc';
import type { RegisteredSchema } from './registry-client.ts';
import { RegistryError } from './registry-error.ts';

/**
 * Turns a registered schema into a codec for one embedded format: Avro with `avsc`, JSON Schema
 * with `ajv` (validated, written as JSON text). Output of `decode` is plain JSON: Avro unions
 * unwrapped, bytes and fixed as base64 (reference section 6).
 */

export interface SchemaCodec {
  /** Payload bytes (without the wire header) for `value`; invalid_data when it does not fit. */
  encode(value: unknown): Buffer;
  /** The value of a payload; invalid_data when it does not decode. */
  decode(payload: Buffer): unknown;
}

/** JSON for output: Buffers (Avro bytes/fixed) as base64, everything else as is. */
function toPlainJson(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return value.toString('base64');
  if (Array.isArray(value)) return value.map(toPlainJson);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = toPlainJson(v);
    return out;
  }
  return value;
}

function avroCodec(schema: string): SchemaCodec {
  let type: avro.Type;
  try {
    // Unions unwrapped on both sides: a value is matched to the first branch it fits.
    type = avro.Type.forSchema(JSON.parse(schema), { wrapUnions: false });
  } catch (err) {
    throw new RegistryError('invalid_schema', `invalid Avro schema: ${(err as Error).message}`);
  }
  return {
    encode(value) {
      const paths: string[] = [];
      if (!type.isValid(value, { errorHook: (path) => paths.push(path.join('.') || '(root)') })) {
        throw new RegistryError(
          'invalid_data',
          `Object does not fit to stored schema (at ${paths.join(', ')})`,
        );
      }
      return type.toBuffer(value);
    },
    decode(payload) {
      try {
        return toPlainJson(type.fromBuffer(payload));
      } catch (err) {
        throw new RegistryError('invalid_data', `not Avro of the writer's schema: ${(err as Error).message}`);
      }
    },
  };
}

function jsonSchemaCodec(schema: string): SchemaCodec {
  let validate: ReturnType<Ajv2020['compile']>;
  try {
    const parsed = JSON.parse(schema) as unknown;
    const draft2020 =
      typeof parsed === 'object' &&
      parsed !== null &&
      String((parsed as { $schema?: unknown }).$schema).includes('2020-12');
    const ajv = draft2020 ? new Ajv2020({ strict: false }) : new AjvDraft7.default({ strict: false });
    validate = ajv.compile(parsed as object);
  } catch (err) {
    throw new RegistryError('invalid_schema', `invalid JSON Schema: ${(err as Error).message}`);
  }
  const check = (value: unknown) => {
    if (!validate(value)) {
      const first = validate.errors?.[0];
      throw new RegistryError(
        'invalid_data',
        `Object does not fit to stored schema${first ? ` (${first.instancePath || '/'} ${first.message})` : ''}`,
      );
    }
  };
  return {
    encode(value) {
      check(value);
      return Buffer.from(JSON.stringify(value), 'utf8');
    },
    decode(payload) {
      let value: unknown;
      try {
        value = JSON.parse(payload.toString('utf8'));
      } catch {
        throw new RegistryError('invalid_data', 'not valid JSON');
      }
      check(value);
      return value;
    },
  };
}

/** A codec for `registered`; invalid_schema when its type is not served or the schema is unusable. */
export function createCodec(registered: Pick<RegisteredSchema, 'schemaType' | 'schema'>): SchemaCodec {
  if (registered.schemaType === 'AVRO') return avroCodec(registered.schema);
  if (registered.schemaType === 'JSON') return jsonSchemaCodec(registered.schema);
  throw new RegistryError('invalid_schema', `schema type ${registered.schemaType} is not served yet`);
}
