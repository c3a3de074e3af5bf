import avro from 'avsc';
import type { SchemaCodec } from './codec.ts';
import { RegistryError } from './registry-error.ts';

/**
 * The avro format with `avsc`. Output is plain JSON (reference section 6): unions unwrapped,
 * bytes and fixed as base64.
 */

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

export function avroCodec(schema: string): SchemaCodec {
  let type: avro.Type;
  let parsed: unknown;
  try {
    parsed = JSON.parse(schema);
    // Unions unwrapped: a value is matched to the first branch it fits, and fetch output has no tags.
    type = avro.Type.forSchema(parsed as avro.Schema, { wrapUnions: false });
  } catch (err) {
    throw new RegistryError('invalid_schema', `invalid Avro schema: ${(err as Error).message}`);
  }
  // Produce also takes Avro JSON's tagged unions ({"string": "x"}), as Karapace does: the same
  // schema with wrapped unions reads those (and plain values), and writes the same bytes.
  let tagged: avro.Type | null = null;
  return {
    // Named types (record, enum, fixed) carry their full name; primitives and unions none.
    recordName: type.name ?? null,
    encode(value) {
      const paths: string[] = [];
      if (type.isValid(value, { errorHook: (path) => paths.push(path.join('.') || '(root)') })) {
        return type.toBuffer(value);
      }
      try {
        tagged ??= avro.Type.forSchema(parsed as avro.Schema, { wrapUnions: true });
        return tagged.toBuffer(tagged.clone(value, { wrapUnions: true }));
      } catch {
        throw new RegistryError(
          'invalid_data',
          `Object does not fit to stored schema (at ${paths.join(', ')})`,
        );
      }
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
