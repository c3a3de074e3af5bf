/**
 * Reads the few fields Tollgate uses straight from an encoded envoy.service.auth.v3.CheckRequest,
 * instead of decoding the whole message into objects (proto-loader builds every header, the
 * context extensions, both peers, then copies them all again with toObject). Everything else is
 * skipped by its wire type without being looked at. Issue #14: the cached Check's allocation.
 *
 * Field numbers (envoy/service/auth/v3, envoy/config/core/v3):
 *   CheckRequest.attributes = 1 -> AttributeContext
 *   AttributeContext.source = 1 -> Peer, .request = 4 -> Request
 *   Peer.address = 1 -> Address.socket_address = 1 -> SocketAddress.address = 2; Peer.certificate = 5
 *   Request.http = 2 -> HttpRequest
 *   HttpRequest.id = 1, .method = 2, .headers = 3 (map<string,string>: key 1, value 2), .path = 4,
 *     .header_map = 13 -> HeaderMap.headers = 1 (repeated HeaderValue: key 1, value 2, raw_value 3)
 *
 * Protobuf semantics kept: fields in any order, a repeated message field appends, a message
 * field seen twice merges, a scalar seen twice keeps the last. Malformed input (truncated, a
 * length past the end, a group or an unknown wire type) throws: grpc-js then fails the call,
 * which Envoy treats as an authorization error, never an allow.
 */

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LENGTH = 2;
const WIRE_FIXED32 = 5;

/** The request as Tollgate reads it: only what the checker and the log need. */
export class CheckAttributes {
  /** HttpRequest.id ('' when absent). */
  id = '';
  method = '';
  /** The raw request target: path and query, not percent-decoded. */
  path = '';
  /** The client address Envoy saw (source.address.socket_address.address). */
  sourceAddress: string | undefined = undefined;
  /** The client's URL-encoded PEM certificate (include_peer_certificate). */
  sourceCertificate: string | undefined = undefined;
  /** Entries of header_map (encode_raw_headers); when there are any, they are the headers. */
  headerMapEntries = 0;
  /** Every Authorization entry of header_map, in order (raw_value as latin1, else value). */
  headerMapAuthorization: string[] | undefined = undefined;
  /** The first x-request-id entry of header_map. */
  headerMapRequestId: string | undefined = undefined;
  /** `authorization` of the headers map (Envoy joins repeated headers with a comma). */
  headersAuthorization: string | undefined = undefined;
  headersRequestId: string | undefined = undefined;
}

class Reader {
  readonly buf: Buffer;
  pos: number;

  constructor(buf: Buffer) {
    this.buf = buf;
    this.pos = 0;
  }

  /** A varint of up to 32 bits (tags and lengths); longer ones are refused. */
  uint32(): number {
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (this.pos >= this.buf.length) throw new Error('CheckRequest: truncated varint');
      const byte = this.buf[this.pos++]!;
      result += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) {
        if (result > 0xffffffff) throw new Error('CheckRequest: varint over 32 bits');
        return result;
      }
    }
    throw new Error('CheckRequest: varint over 32 bits');
  }

  /** Reads a length prefix; returns where the field's bytes end (they start at `pos`). */
  lengthEnd(limit: number): number {
    const length = this.uint32();
    const end = this.pos + length;
    if (end > limit) throw new Error('CheckRequest: length past the end of its message');
    return end;
  }

  skip(wireType: number, limit: number): void {
    switch (wireType) {
      case WIRE_VARINT:
        for (let i = 0; ; i++) {
          if (i === 10 || this.pos >= limit) throw new Error('CheckRequest: bad varint');
          if (this.buf[this.pos++]! < 0x80) return;
        }
      case WIRE_FIXED64:
        this.pos += 8;
        break;
      case WIRE_LENGTH:
        this.pos = this.lengthEnd(limit);
        return;
      case WIRE_FIXED32:
        this.pos += 4;
        break;
      default:
        // Groups (3, 4) are not used by any message on this path; anything else is not protobuf.
        throw new Error(`CheckRequest: unexpected wire type ${wireType}`);
    }
    if (this.pos > limit) throw new Error('CheckRequest: field past the end of its message');
  }

  utf8(end: number): string {
    const text = this.buf.toString('utf8', this.pos, end);
    this.pos = end;
    return text;
  }
}

const AUTHORIZATION = Buffer.from('authorization');
const REQUEST_ID = Buffer.from('x-request-id');

/** Bytes [start, end) equal `name`, ignoring ASCII case (header_map keys are as the client sent them). */
function isHeaderNamed(buf: Buffer, start: number, end: number, name: Buffer): boolean {
  if (end - start !== name.length) return false;
  // OR 0x20 folds ASCII upper to lower case. Both names are letters and '-' (0x2d, unchanged);
  // no other byte folds onto them. (String.toLowerCase would also map U+212A KELVIN SIGN to
  // 'k', which neither name contains.)
  for (let i = 0; i < name.length; i++) if ((buf[start + i]! | 0x20) !== name[i]) return false;
  return true;
}

function isExactly(buf: Buffer, start: number, end: number, name: Buffer): boolean {
  return end - start === name.length && buf.compare(name, 0, name.length, start, end) === 0;
}

/** Decodes the fields Tollgate reads from an encoded CheckRequest. Throws on malformed input. */
export function decodeCheckRequest(bytes: Uint8Array): CheckAttributes {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const r = new Reader(buf);
  const out = new CheckAttributes();
  const end = buf.length;
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === ((1 << 3) | WIRE_LENGTH)) readAttributeContext(r, r.lengthEnd(end), out);
    else r.skip(tag & 7, end);
  }
  return out;
}

function readAttributeContext(r: Reader, end: number, out: CheckAttributes): void {
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === ((1 << 3) | WIRE_LENGTH)) readPeer(r, r.lengthEnd(end), out);
    else if (tag === ((4 << 3) | WIRE_LENGTH)) readRequest(r, r.lengthEnd(end), out);
    else r.skip(tag & 7, end);
  }
  r.pos = end;
}

function readPeer(r: Reader, end: number, out: CheckAttributes): void {
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === ((1 << 3) | WIRE_LENGTH)) readAddress(r, r.lengthEnd(end), out);
    else if (tag === ((5 << 3) | WIRE_LENGTH)) out.sourceCertificate = r.utf8(r.lengthEnd(end));
    else r.skip(tag & 7, end);
  }
}

function readAddress(r: Reader, end: number, out: CheckAttributes): void {
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === ((1 << 3) | WIRE_LENGTH)) readSocketAddress(r, r.lengthEnd(end), out);
    else r.skip(tag & 7, end);
  }
}

function readSocketAddress(r: Reader, end: number, out: CheckAttributes): void {
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === ((2 << 3) | WIRE_LENGTH)) out.sourceAddress = r.utf8(r.lengthEnd(end));
    else r.skip(tag & 7, end);
  }
}

function readRequest(r: Reader, end: number, out: CheckAttributes): void {
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === ((2 << 3) | WIRE_LENGTH)) readHttpRequest(r, r.lengthEnd(end), out);
    else r.skip(tag & 7, end);
  }
}

function readHttpRequest(r: Reader, end: number, out: CheckAttributes): void {
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case (1 << 3) | WIRE_LENGTH:
        out.id = r.utf8(r.lengthEnd(end));
        break;
      case (2 << 3) | WIRE_LENGTH:
        out.method = r.utf8(r.lengthEnd(end));
        break;
      case (3 << 3) | WIRE_LENGTH:
        readHeadersEntry(r, r.lengthEnd(end), out);
        break;
      case (4 << 3) | WIRE_LENGTH:
        out.path = r.utf8(r.lengthEnd(end));
        break;
      case (13 << 3) | WIRE_LENGTH:
        readHeaderMap(r, r.lengthEnd(end), out);
        break;
      default:
        r.skip(tag & 7, end);
    }
  }
}

/** One entry of the `headers` map; only two keys are kept, compared without making a string. */
function readHeadersEntry(r: Reader, end: number, out: CheckAttributes): void {
  let keyStart = -1;
  let keyEnd = -1;
  let valueStart = -1;
  let valueEnd = -1;
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === ((1 << 3) | WIRE_LENGTH)) {
      keyEnd = r.lengthEnd(end);
      keyStart = r.pos;
      r.pos = keyEnd;
    } else if (tag === ((2 << 3) | WIRE_LENGTH)) {
      valueEnd = r.lengthEnd(end);
      valueStart = r.pos;
      r.pos = valueEnd;
    } else {
      r.skip(tag & 7, end);
    }
  }
  // A map with a repeated key keeps the last entry. A missing value is the empty string.
  if (isExactly(r.buf, keyStart, keyEnd, AUTHORIZATION)) {
    out.headersAuthorization = valueStart === -1 ? '' : r.buf.toString('utf8', valueStart, valueEnd);
  } else if (isExactly(r.buf, keyStart, keyEnd, REQUEST_ID)) {
    out.headersRequestId = valueStart === -1 ? '' : r.buf.toString('utf8', valueStart, valueEnd);
  }
}

function readHeaderMap(r: Reader, end: number, out: CheckAttributes): void {
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === ((1 << 3) | WIRE_LENGTH)) readHeaderValue(r, r.lengthEnd(end), out);
    else r.skip(tag & 7, end);
  }
}

/** One HeaderValue of header_map: every Authorization entry is kept, so two can be refused. */
function readHeaderValue(r: Reader, end: number, out: CheckAttributes): void {
  let keyStart = -1;
  let keyEnd = -1;
  let valueStart = -1;
  let valueEnd = -1;
  let rawStart = -1;
  let rawEnd = -1;
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === ((1 << 3) | WIRE_LENGTH)) {
      keyEnd = r.lengthEnd(end);
      keyStart = r.pos;
      r.pos = keyEnd;
    } else if (tag === ((2 << 3) | WIRE_LENGTH)) {
      valueEnd = r.lengthEnd(end);
      valueStart = r.pos;
      r.pos = valueEnd;
    } else if (tag === ((3 << 3) | WIRE_LENGTH)) {
      rawEnd = r.lengthEnd(end);
      rawStart = r.pos;
      r.pos = rawEnd;
    } else {
      r.skip(tag & 7, end);
    }
  }
  out.headerMapEntries++;
  const buf = r.buf;
  if (isHeaderNamed(buf, keyStart, keyEnd, AUTHORIZATION)) {
    // raw_value is bytes: latin1 keeps every byte as one character, as Envoy sent it.
    const value =
      rawEnd > rawStart
        ? buf.toString('latin1', rawStart, rawEnd)
        : valueStart === -1
          ? ''
          : buf.toString('utf8', valueStart, valueEnd);
    if (out.headerMapAuthorization === undefined) out.headerMapAuthorization = [value];
    else out.headerMapAuthorization.push(value);
  } else if (isHeaderNamed(buf, keyStart, keyEnd, REQUEST_ID) && !out.headerMapRequestId) {
    out.headerMapRequestId =
      rawStart !== -1
        ? buf.toString('latin1', rawStart, rawEnd)
        : valueStart === -1
          ? undefined
          : buf.toString('utf8', valueStart, valueEnd);
  }
}
