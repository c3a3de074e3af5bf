import AjvDraft7 from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { SchemaCodec } from './codec.ts';
import { RegistryError } from './registry-error.ts';

/** The jsonschema format with `ajv`: values validated on both sides, written as JSON text. */

export function jsonSchemaCodec(schema: string): SchemaCodec {
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
  const title = (JSON.parse(schema) as { title?: unknown }).title;
  return {
    recordName: typeof title === 'string' ? title : null,
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
