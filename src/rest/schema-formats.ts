import type { Config } from '../config/schema.ts';
import { ServiceError } from '../errors.ts';
import {
  type RegisteredSchema,
  type RegistryCaller,
  SchemaRegistryClient,
  type SchemaType,
} from '../registry/registry-client.ts';
import { RegistryError } from '../registry/registry-error.ts';
import { createCodec, type SchemaCodec } from '../registry/schema-codec.ts';
import { decodeWire, encodeWire } from '../registry/wire-format.ts';
import type { RequestContext } from './request-context.ts';

/**
 * The schema formats (avro, jsonschema, protobuf) of the REST contract over the configured
 * schema registry (reference section 6): resolve a produce request's schema per side (register
 * `<side>_schema` under the subject the name strategy gives, or look up `<side>_schema_id`), encode records in the
 * Confluent wire format, decode fetched records by the id they carry. Codecs are cached by id.
 */

export type SchemaFormat = 'avro' | 'jsonschema' | 'protobuf';
export type Side = 'key' | 'value';

const SCHEMA_TYPES: Record<SchemaFormat, SchemaType> = {
  avro: 'AVRO',
  jsonschema: 'JSON',
  protobuf: 'PROTOBUF',
};
const MAX_CODECS = 1000;

const clients = new WeakMap<Config['schemaRegistry'], SchemaRegistryClient>();
const codecs = new Map<number, SchemaCodec>();

export function isSchemaFormat(format: string): format is SchemaFormat {
  return format === 'avro' || format === 'jsonschema' || format === 'protobuf';
}

function registryOf(ctx: RequestContext): SchemaRegistryClient {
  const settings = ctx.config.schemaRegistry;
  if (settings.url === '')
    throw new ServiceError('SCHEMA_REGISTRY_UNAVAILABLE', 'No schema registry is configured for this proxy');
  let client = clients.get(settings);
  if (!client) {
    client = new SchemaRegistryClient(settings);
    clients.set(settings, client);
  }
  return client;
}

/** The caller, with its bearer token for registries that take it (schemaRegistry.forwardBearer). */
function callerOf(ctx: RequestContext): RegistryCaller {
  const header = ctx.req.headers.authorization;
  const bearer = typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7) : null;
  return { principal: ctx.principal, bearer };
}

function codecFor(registered: RegisteredSchema): SchemaCodec {
  let codec = codecs.get(registered.id);
  if (!codec) {
    codec = createCodec(registered);
    if (codecs.size >= MAX_CODECS) codecs.delete(codecs.keys().next().value as number);
    codecs.set(registered.id, codec);
  }
  return codec;
}

/** A registry failure while producing, as the contract answers it. */
function produceError(err: unknown): unknown {
  if (!(err instanceof RegistryError)) return err;
  if (err.kind === 'unavailable') return new ServiceError('SCHEMA_REGISTRY_UNAVAILABLE', err.message);
  return new ServiceError('SCHEMA_INVALID', err.message);
}

export interface ResolvedSchema {
  readonly id: number;
  readonly codec: SchemaCodec;
}

/**
 * The schema of one side of a produce request: `<side>_schema` (a JSON string) registered under
 * its subject (`<topic>-<side>` by default), or `<side>_schema_id`. 42205 for an unusable schema or an unknown id, 40801
 * when the registry cannot answer.
 */
export async function resolveSchema(
  ctx: RequestContext,
  format: SchemaFormat,
  topic: string,
  side: Side,
  body: Record<string, unknown>,
): Promise<ResolvedSchema> {
  const registry = registryOf(ctx);
  const caller = callerOf(ctx);
  const { nameStrategy, nameStrategyValidation } = ctx.config.schemaRegistry;
  const schema = body[`${side}_schema`];
  const schemaId = body[`${side}_schema_id`];
  try {
    if (schemaId !== undefined && schemaId !== null) {
      const registered = await registry.schemaById(Number(schemaId), caller);
      const codec = codecFor(registered);
      // Karapace's name_strategy_validation: the id must belong to the subject the strategy names.
      if (nameStrategyValidation) {
        const subject = subjectFor(nameStrategy, topic, side, codec.recordName);
        if (!(await registry.isRegisteredUnder(registered.id, subject, caller))) {
          throw new ServiceError(
            'SCHEMA_INVALID',
            `schema ${registered.id} is not registered under subject ${subject}`,
          );
        }
      }
      return { id: registered.id, codec };
    }
    if (typeof schema !== 'string')
      throw new ServiceError('SCHEMA_INVALID', `${side}_schema must be a string`);
    const schemaType = SCHEMA_TYPES[format];
    // Compile first: a schema we cannot use is refused before it reaches the registry.
    const compiled = createCodec({ schemaType, schema });
    const subject = subjectFor(nameStrategy, topic, side, compiled.recordName);
    const id = await registry.register(subject, schemaType, schema, caller);
    return { id, codec: codecFor({ id, schemaType, schema }) };
  } catch (err) {
    throw produceError(err);
  }
}

/** The subject of a schema under Karapace's name strategies; 42205 when the strategy needs a name the schema lacks. */
export function subjectFor(
  strategy: Config['schemaRegistry']['nameStrategy'],
  topic: string,
  side: Side,
  recordName: string | null,
): string {
  if (strategy === 'topic_name') return `${topic}-${side}`;
  if (recordName === null) {
    throw new ServiceError(
      'SCHEMA_INVALID',
      `the schema has no record name, which the ${strategy} subject strategy needs: use another strategy or name it`,
    );
  }
  return strategy === 'record_name' ? recordName : `${topic}-${recordName}`;
}

/** Encodes one key or value in the wire format; null stays null. 42205 when it does not fit. */
export function encodeSchemaField(resolved: ResolvedSchema, value: unknown): Buffer | null {
  if (value === null || value === undefined) return null;
  try {
    return encodeWire(resolved.id, resolved.codec.encode(value));
  } catch (err) {
    throw produceError(err);
  }
}

/**
 * A fetched key or value in the consumer's schema format; empty bytes read back as null. A
 * record not in the wire format, with an id the registry does not know, or that does not decode
 * answers 422 `<side> deserialization error for format <fmt>`; 40801 when the registry is down.
 */
export async function decodeSchemaField(
  ctx: RequestContext,
  format: SchemaFormat,
  bytes: Buffer | null,
  side: Side,
): Promise<unknown> {
  if (bytes === null || bytes.length === 0) return null;
  try {
    const { schemaId, payload } = decodeWire(bytes);
    const registered = await registryOf(ctx).schemaById(schemaId, callerOf(ctx));
    return codecFor(registered).decode(payload);
  } catch (err) {
    if (err instanceof RegistryError && err.kind === 'unavailable')
      throw new ServiceError('SCHEMA_REGISTRY_UNAVAILABLE', err.message);
    if (err instanceof RegistryError) {
      throw new ServiceError(
        'REQUEST_UNPROCESSABLE',
        `${side} deserialization error for format ${format}: ${err.message}`,
      );
    }
    throw err;
  }
}
