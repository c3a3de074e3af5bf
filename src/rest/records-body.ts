import { ServiceError } from '../errors.ts';
import type { FetchedRecord } from '../kafka/consumer-types.ts';
import { writeCanonicalJson } from './canonical-json.ts';
import { type DataFormat, decodeField } from './record-format.ts';
import { sortKeysDeep } from './respond.ts';

/**
 * The body of a GET records answer, written as bytes record by record: the same bytes as
 * `JSON.stringify` of the array of record objects (members in sorted order: headers, key,
 * offset, partition, timestamp, topic, value; `headers` only when there are any), encoded as
 * UTF-8. Stringifying the whole multi-megabyte array and then encoding it again was most of
 * the consume path's CPU (bench/profiles/consume-profile.md); here each key and value is
 * written once, a json value straight from its bytes when that is provably the same text.
 */

/** A key or value as JSON: text, `undefined` to leave the member out as JSON.stringify does. */
export type FieldJson = string | undefined;

/**
 * The answer for a binary or json consumer. A key that does not decode is returned as base64
 * (Karapace); a value must decode, else REQUEST_UNPROCESSABLE (422).
 */
export function plainRecordsBody(records: readonly FetchedRecord[], format: DataFormat): Buffer {
  const body = new RecordsBody(records);
  for (const r of records) {
    const key = r.key === null || r.key.length === 0 ? 'null' : decodedJson(plainKey(format, r.key));
    if (format === 'binary') body.add(r, key, binaryJson(r.value));
    else if (r.value === null || r.value.length === 0 || !body.addCanonicalValue(r, key, r.value))
      body.add(r, key, decodedJson(decodeField(format, r.value, 'value')));
  }
  return body.finish();
}

/** A decoded key or value as the answer writes it: object keys sorted; undefined leaves the member out. */
export function decodedJson(value: unknown): FieldJson {
  return JSON.stringify(sortKeysDeep(value));
}

/** A binary-format value: its base64 in quotes (base64 needs no escaping), or null when empty. */
function binaryJson(bytes: Buffer | null): string {
  return bytes === null || bytes.length === 0 ? 'null' : `"${bytes.toString('base64')}"`;
}

function plainKey(format: DataFormat, key: Buffer | null): unknown {
  try {
    return decodeField(format, key, 'key');
  } catch (err) {
    if (err instanceof ServiceError) return key?.toString('base64') ?? null;
    throw err;
  }
}

const CLOSE_BRACE = 0x7d;
/** Initial size per record beyond its key and value (the members around them). */
const RECORD_FRAME_BYTES = 160;

export class RecordsBody {
  private bytes: Buffer;
  private length = 0;
  private count = 0;
  /** The last topic's JSON string: a fetch mostly returns one or a few topics. */
  private topic = '';
  private topicJson = '""';

  constructor(records: readonly FetchedRecord[]) {
    let estimate = 2;
    // Room for base64 (4 characters per 3 bytes); json values are never longer than their bytes.
    for (const r of records)
      estimate += RECORD_FRAME_BYTES + Math.ceil((((r.key?.length ?? 0) + (r.value?.length ?? 0)) * 4) / 3);
    this.bytes = Buffer.allocUnsafe(estimate);
  }

  /** Appends one record whose key and value are JSON text. */
  add(record: FetchedRecord, key: FieldJson, value: FieldJson): void {
    const members = this.members(record, key);
    this.text(value === undefined ? `${members}}` : `${members},"value":${value}}`);
  }

  /**
   * Appends one record with a json-format value written from its bytes (writeCanonicalJson);
   * false, and nothing appended, when the value has to be parsed instead.
   */
  addCanonicalValue(record: FetchedRecord, key: FieldJson, value: Buffer): boolean {
    const length = this.length;
    this.text(`${this.members(record, key)},"value":`);
    this.reserve(value.length + 1);
    const end = writeCanonicalJson(value, this.bytes, this.length);
    if (end < 0) {
      this.length = length;
      this.count--;
      return false;
    }
    this.bytes[end] = CLOSE_BRACE;
    this.length = end + 1;
    return true;
  }

  /** The answer: the records, as a JSON array. */
  finish(): Buffer {
    if (this.count === 0) return Buffer.from('[]');
    this.text(']');
    return this.bytes.subarray(0, this.length);
  }

  /** `[` or `,`, then the record's members up to and including the topic, as one string (one write). */
  private members(record: FetchedRecord, key: FieldJson): string {
    let text = this.count++ === 0 ? '[{' : ',{';
    if (record.headers.length > 0) text += `"headers":${headersJson(record.headers)},`;
    if (key !== undefined) text += `"key":${key},`;
    if (record.topic !== this.topic) {
      this.topic = record.topic;
      this.topicJson = JSON.stringify(record.topic);
    }
    return (
      `${text}"offset":${numberJson(record.offset)},"partition":${numberJson(record.partition)},` +
      `"timestamp":${numberJson(record.timestamp)},"topic":${this.topicJson}`
    );
  }

  private text(text: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 code unit.
    this.reserve(text.length * 3);
    this.length += this.bytes.write(text, this.length, 'utf8');
  }

  private reserve(bytes: number): void {
    if (this.length + bytes <= this.bytes.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.bytes.length * 2, this.length + bytes));
    this.bytes.copy(grown, 0, 0, this.length);
    this.bytes = grown;
  }
}

/** As JSON.stringify writes a number (null for NaN and the infinities) or null. */
function numberJson(value: number | null): string {
  return value !== null && Number.isFinite(value) ? String(value) : 'null';
}

function headersJson(headers: FetchedRecord['headers']): string {
  let text = '[';
  for (let k = 0; k < headers.length; k++) {
    const { key, value } = headers[k]!;
    // base64 has no character JSON escapes.
    text += `${k > 0 ? ',' : ''}{"key":${JSON.stringify(key)},"value":${value === null ? 'null' : `"${value.toString('base64')}"`}}`;
  }
  return `${text}]`;
}
