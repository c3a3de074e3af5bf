/**
 * Content negotiation of the REST v2 API (reference section 2): which request Content-Types
 * are accepted and which embedded format they name, and whether an Accept header can be
 * served (and which format it asks for, which matters only when fetching records).
 */

export type EmbeddedFormat = 'binary' | 'json' | 'avro' | 'jsonschema' | 'protobuf';

const FORMATS: ReadonlySet<string> = new Set(['binary', 'json', 'avro', 'jsonschema', 'protobuf']);

/** `application/vnd.kafka[.{fmt}][.v1|.v2]+json` → the format, or '' for none; null if not this family. */
function kafkaMediaFormat(subtype: string): string | null {
  if (!subtype.startsWith('vnd.kafka') || !subtype.endsWith('+json')) return null;
  const middle = subtype.slice('vnd.kafka'.length, -'+json'.length);
  if (middle === '') return '';
  if (!middle.startsWith('.')) return null;
  const parts = middle.slice(1).split('.');
  if (parts.length === 1) {
    const [one] = parts as [string];
    if (one === 'v1' || one === 'v2') return '';
    return FORMATS.has(one) ? one : null;
  }
  if (parts.length === 2) {
    const [fmt, version] = parts as [string, string];
    return FORMATS.has(fmt) && (version === 'v1' || version === 'v2') ? fmt : null;
  }
  return null;
}

/**
 * The embedded format a POST's Content-Type names; null when the type is not accepted (415).
 * Absent is treated as application/json (binary).
 */
export function requestFormat(contentType: string | undefined): EmbeddedFormat | null {
  if (contentType === undefined) return 'binary';
  const type = contentType.split(';', 1)[0]!.trim().toLowerCase();
  if (type === '' || type === 'application/json' || type === 'application/octet-stream') return 'binary';
  if (!type.startsWith('application/')) return null;
  const format = kafkaMediaFormat(type.slice('application/'.length));
  if (format === null) return null;
  return (format === '' ? 'binary' : format) as EmbeddedFormat;
}

export interface AcceptResult {
  /** False: no acceptable media range (406). */
  readonly acceptable: boolean;
  /** The embedded format named by the deciding range, or null (`*`, json, vnd.kafka.v2+json). */
  readonly format: EmbeddedFormat | null;
}

const ANY: AcceptResult = Object.freeze({ acceptable: true, format: null });
const NONE: AcceptResult = Object.freeze({ acceptable: false, format: null });

/** The first media range of the form application/... or * /... that we can serve decides. */
export function negotiateAccept(accept: string | undefined): AcceptResult {
  if (accept === undefined || accept.trim() === '') return ANY;
  for (const range of accept.split(',')) {
    const type = range.split(';', 1)[0]!.trim().toLowerCase();
    const slash = type.indexOf('/');
    if (slash < 0) continue;
    const main = type.slice(0, slash);
    const sub = type.slice(slash + 1);
    if (main !== 'application' && main !== '*') continue;
    if (sub === '*' || sub === 'json') return ANY;
    const format = kafkaMediaFormat(sub);
    if (format === null) continue;
    return format === '' ? ANY : { acceptable: true, format: format as EmbeddedFormat };
  }
  return NONE;
}
