import protobuf from 'protobufjs';
import type { SchemaCodec } from './codec.ts';
import { RegistryError } from './registry-error.ts';

/**
 * The protobuf format with `protobufjs`. The payload after the wire header starts with the
 * message-index path of the message type used, as Confluent's serializers write it: a varint
 * count, then one varint per level (zigzag-encoded, as Confluent's Java client does); the path
 * [0] (the file's first message) is the single byte 0. We write with the file's first message,
 * as Karapace and Confluent do by default, so the bytes are the same for all three.
 *
 * Output follows Karapace: field names as written in the .proto, every field present (defaults
 * included), enums by name, bytes as base64, 64-bit integers as JSON numbers.
 */

const TO_OBJECT: protobuf.IConversionOptions = {
  enums: String,
  bytes: String,
  longs: Number,
  defaults: true,
  arrays: true,
  objects: true,
};

/** The message types directly inside `ns`, in declaration order (namespaces are looked through). */
function messagesIn(ns: protobuf.NamespaceBase): protobuf.Type[] {
  const out: protobuf.Type[] = [];
  for (const nested of ns.nestedArray) {
    if (nested instanceof protobuf.Type) out.push(nested);
    else if (nested instanceof protobuf.Namespace && !(nested instanceof protobuf.Service))
      out.push(...messagesIn(nested));
  }
  return out;
}

function zigzag(n: number): number {
  return (n << 1) ^ (n >> 31);
}

function unzigzag(n: number): number {
  return (n >>> 1) ^ -(n & 1);
}

/** Message-index path as Confluent writes it. */
export function encodeIndexes(indexes: readonly number[]): Buffer {
  if (indexes.length === 1 && indexes[0] === 0) return Buffer.from([0]);
  const writer = protobuf.Writer.create();
  writer.uint32(zigzag(indexes.length));
  for (const index of indexes) writer.uint32(zigzag(index));
  return Buffer.from(writer.finish());
}

/** Reads the message-index path; returns it and where the message starts. */
export function decodeIndexes(payload: Buffer): { indexes: number[]; offset: number } {
  try {
    const reader = protobuf.Reader.create(payload);
    const count = unzigzag(reader.uint32());
    if (count === 0) return { indexes: [0], offset: reader.pos };
    if (count < 0 || count > 64) throw new Error(`bad message-index count ${count}`);
    const indexes: number[] = [];
    for (let i = 0; i < count; i++) indexes.push(unzigzag(reader.uint32()));
    return { indexes, offset: reader.pos };
  } catch (err) {
    throw new RegistryError('invalid_data', `no protobuf message-index path: ${(err as Error).message}`);
  }
}

const INTEGER_TYPES = new Set(['int32', 'uint32', 'sint32', 'fixed32', 'sfixed32']);
const LONG_TYPES = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Checks a JSON value against a field the way protobuf's JSON mapping reads it (protobufjs's
 * fromObject would coerce instead): a problem text, or null when it fits.
 */
function checkValue(field: protobuf.Field, value: unknown, path: string): string | null {
  if (value === null) return null;
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Enum) {
    if (typeof value === 'string' && value in resolved.values) return null;
    if (Number.isInteger(value)) return null;
    return `${path}: expected a value of enum ${resolved.name}`;
  }
  if (resolved instanceof protobuf.Type) {
    if (typeof value !== 'object' || Array.isArray(value)) return `${path}: expected an object`;
    return checkMessage(resolved, value as Record<string, unknown>, path);
  }
  const type = field.type;
  if (type === 'string') return typeof value === 'string' ? null : `${path}: expected a string`;
  if (type === 'bool') return typeof value === 'boolean' ? null : `${path}: expected a boolean`;
  if (type === 'bytes') {
    return typeof value === 'string' && value.length % 4 === 0 && BASE64.test(value)
      ? null
      : `${path}: expected base64`;
  }
  if (INTEGER_TYPES.has(type)) return Number.isInteger(value) ? null : `${path}: expected an integer`;
  if (LONG_TYPES.has(type)) {
    return Number.isInteger(value) || (typeof value === 'string' && /^-?\d+$/.test(value))
      ? null
      : `${path}: expected an integer`;
  }
  return typeof value === 'number' ? null : `${path}: expected a number`;
}

function checkMessage(type: protobuf.Type, value: Record<string, unknown>, path: string): string | null {
  for (const [key, item] of Object.entries(value)) {
    const field = type.fields[key];
    const where = path ? `${path}.${key}` : key;
    if (!field) return `${where}: no such field in ${type.name}`;
    if (field instanceof protobuf.MapField) {
      if (typeof item !== 'object' || item === null || Array.isArray(item))
        return `${where}: expected an object`;
      for (const [k, v] of Object.entries(item)) {
        const problem = checkValue(field, v, `${where}.${k}`);
        if (problem) return problem;
      }
    } else if (field.repeated) {
      if (!Array.isArray(item)) return `${where}: expected an array`;
      for (let i = 0; i < item.length; i++) {
        const problem = checkValue(field, item[i], `${where}[${i}]`);
        if (problem) return problem;
      }
    } else {
      const problem = checkValue(field, item, where);
      if (problem) return problem;
    }
  }
  return null;
}

export function protobufCodec(schema: string): SchemaCodec {
  let top: protobuf.Type[];
  try {
    const { root } = protobuf.parse(schema, { keepCase: true });
    root.resolveAll();
    top = messagesIn(root);
  } catch (err) {
    throw new RegistryError('invalid_schema', `invalid protobuf schema: ${(err as Error).message}`);
  }
  if (top.length === 0) throw new RegistryError('invalid_schema', 'the protobuf schema declares no message');
  const writerType = top[0]!;
  const header = encodeIndexes([0]);
  const typeAt = (indexes: readonly number[]): protobuf.Type => {
    let candidates = top;
    let found: protobuf.Type | undefined;
    for (const index of indexes) {
      found = candidates[index];
      if (!found) throw new RegistryError('invalid_data', `no message at index path [${indexes.join(', ')}]`);
      candidates = found.nestedArray.filter((n): n is protobuf.Type => n instanceof protobuf.Type);
    }
    return found!;
  };
  return {
    // Package-qualified, as Karapace names it.
    recordName: writerType.fullName.replace(/^\./, ''),
    encode(value) {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        throw new RegistryError(
          'invalid_data',
          'Object does not fit to stored schema (a protobuf message is a JSON object)',
        );
      }
      const problem = checkMessage(writerType, value as Record<string, unknown>, '');
      if (problem)
        throw new RegistryError('invalid_data', `Object does not fit to stored schema (${problem})`);
      let message: protobuf.Message;
      try {
        message = writerType.fromObject(value as Record<string, unknown>);
      } catch (err) {
        throw new RegistryError(
          'invalid_data',
          `Object does not fit to stored schema (${(err as Error).message})`,
        );
      }
      return Buffer.concat([header, Buffer.from(writerType.encode(message).finish())]);
    },
    decode(payload) {
      const { indexes, offset } = decodeIndexes(payload);
      const type = typeAt(indexes);
      try {
        return type.toObject(type.decode(payload.subarray(offset)), TO_OBJECT);
      } catch (err) {
        if (err instanceof RegistryError) throw err;
        throw new RegistryError('invalid_data', `not a ${type.name} message: ${(err as Error).message}`);
      }
    },
  };
}
