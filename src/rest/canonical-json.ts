import { isUtf8 } from 'node:buffer';

/**
 * A json-format record value as the records answer writes it, straight from its bytes: the same
 * text as `JSON.stringify(sortKeysDeep(JSON.parse(text)))` (compact, object keys sorted), without
 * building the value. Parsing every 1 KiB value and stringifying the whole answer again was half
 * of the consume path's CPU (bench/profiles/consume-profile.md).
 *
 * It answers null, and the caller takes the parse-and-stringify path, for anything where the
 * copy might differ from what that path writes: invalid JSON or UTF-8, escapes other than the
 * short ones JSON.stringify itself writes (`\uXXXX`, `\/`), numbers not already in JavaScript's
 * shortest form (`1.0`, `1e3`, `-0`, integers beyond double precision), object keys with
 * escapes or non-ASCII bytes, keys that are all digits (objects list them first, in numeric
 * order), `__proto__` (sortKeysDeep's assignment drops it), duplicate keys, and nesting deeper
 * than MAX_DEPTH. Everything it does accept is copied byte for byte, minus whitespace, with
 * object members reordered by key.
 */

const MAX_DEPTH = 64;

const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const QUOTE = 0x22;
const PLUS = 0x2b;
const COMMA = 0x2c;
const MINUS = 0x2d;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const COLON = 0x3a;
const OPEN_BRACKET = 0x5b;
const BACKSLASH = 0x5c;
const CLOSE_BRACKET = 0x5d;
const LOWER_E = 0x65;
const UPPER_E = 0x45;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/** The characters after a backslash that JSON.stringify writes itself: " \ b f n r t. */
const SHORT_ESCAPES = new Uint8Array(128);
for (const c of '"\\bfnrt') SHORT_ESCAPES[c.charCodeAt(0)] = 1;

/** Integers of at most this many digits are exact doubles, so they print back unchanged. */
const EXACT_DIGITS = 15;

const PROTO = Buffer.from('__proto__', 'latin1');
const TRUE = Buffer.from('true', 'latin1');
const FALSE = Buffer.from('false', 'latin1');
const NULL = Buffer.from('null', 'latin1');

/** Shorter runs are copied in JavaScript: Buffer#copy's own overhead is larger. */
const SHORT_COPY = 64;
/** Objects with more members than this are sorted with Array#sort, smaller ones by insertion. */
const INSERTION_SORT_MAX = 16;

/**
 * Writes the canonical text of the JSON value `text` into `out` at `offset` and returns where
 * it ends; -1 (and `out` holds garbage from `offset` on) when it cannot be shown equal to the
 * parse-and-stringify result. Whitespace is dropped and nothing is added, so `out` needs room for
 * `text.length` bytes from `offset`.
 */
export function writeCanonicalJson(text: Buffer, out: Buffer, offset: number): number {
  if (!isUtf8(text)) return -1;
  // A string without escapes or control bytes (the common case) is found and copied natively;
  // byte by byte in JavaScript it cost more than JSON.parse.
  const plainStrings = text.indexOf(BACKSLASH) < 0 && !hasControlByte(text);
  const writer = new CanonicalWriter(text, out, offset, plainStrings);
  if (!writer.value(0)) return -1;
  writer.skipWhitespace();
  return writer.at === text.length ? writer.written : -1;
}

/** The canonical text of a JSON value as a new Buffer, or null (see writeCanonicalJson). */
export function canonicalJson(text: Buffer): Buffer | null {
  const out = Buffer.allocUnsafe(text.length);
  const end = writeCanonicalJson(text, out, 0);
  return end < 0 ? null : out.subarray(0, end);
}

/** Reordering an object's members copies them out first; reused, as all of this is synchronous. */
let scratch = Buffer.allocUnsafe(64 * 1024);

class CanonicalWriter {
  readonly text: Buffer;
  readonly out: Buffer;
  /** No string of `text` holds a backslash or a control byte. */
  readonly plainStrings: boolean;
  /** Next byte of `text` to read. */
  at = 0;
  /** Next byte of `out` to write. */
  written: number;

  constructor(text: Buffer, out: Buffer, offset: number, plainStrings: boolean) {
    this.text = text;
    this.out = out;
    this.written = offset;
    this.plainStrings = plainStrings;
  }

  skipWhitespace(): void {
    const { text } = this;
    while (this.at < text.length) {
      const c = text[this.at]!;
      if (c !== SPACE && c !== LF && c !== CR && c !== TAB) return;
      this.at++;
    }
  }

  value(depth: number): boolean {
    this.skipWhitespace();
    const c = this.text[this.at];
    if (c === QUOTE) return this.string();
    if (c === OPEN_BRACE) return depth < MAX_DEPTH && this.object(depth);
    if (c === OPEN_BRACKET) return depth < MAX_DEPTH && this.array(depth);
    if (c === MINUS || (c !== undefined && c >= ZERO && c <= NINE)) return this.number();
    if (c === TRUE[0]) return this.literal(TRUE);
    if (c === FALSE[0]) return this.literal(FALSE);
    if (c === NULL[0]) return this.literal(NULL);
    return false;
  }

  private literal(word: Buffer): boolean {
    const { text } = this;
    if (this.at + word.length > text.length) return false;
    for (let k = 0; k < word.length; k++) if (text[this.at + k] !== word[k]) return false;
    this.out.set(word, this.written);
    this.at += word.length;
    this.written += word.length;
    return true;
  }

  /** A string, copied as it is: it may hold only the escapes JSON.stringify writes. */
  private string(): boolean {
    const { text, out } = this;
    if (this.plainStrings) {
      const end = text.indexOf(QUOTE, this.at + 1);
      if (end < 0) return false;
      this.copy(this.at, end + 1);
      return true;
    }
    let at = this.at + 1;
    let written = this.written;
    out[written++] = QUOTE;
    while (at < text.length) {
      const c = text[at++]!;
      if (c === QUOTE) {
        out[written++] = QUOTE;
        this.at = at;
        this.written = written;
        return true;
      }
      if (c < SPACE) return false;
      if (c === BACKSLASH) {
        const escaped = text[at++];
        if (escaped === undefined || escaped >= 128 || SHORT_ESCAPES[escaped] === 0) return false;
        out[written++] = BACKSLASH;
        out[written++] = escaped;
        continue;
      }
      out[written++] = c;
    }
    return false;
  }

  private number(): boolean {
    const { text } = this;
    const start = this.at;
    let at = start;
    if (text[at] === MINUS) at++;
    const digitsStart = at;
    if (text[at] === ZERO) at++;
    else at = this.digits(at);
    const digits = at - digitsStart;
    if (digits === 0) return false;
    let integer = true;
    if (text[at] === DOT) {
      integer = false;
      const fraction = at + 1;
      at = this.digits(fraction);
      if (at === fraction) return false;
    }
    if (text[at] === LOWER_E || text[at] === UPPER_E) {
      integer = false;
      at++;
      if (text[at] === PLUS || text[at] === MINUS) at++;
      const exponent = at;
      at = this.digits(exponent);
      if (at === exponent) return false;
    }
    const negativeZero = integer && digits === 1 && text[digitsStart] === ZERO && digitsStart > start;
    if (!integer || digits > EXACT_DIGITS || negativeZero) {
      // What JSON.stringify would print for it must be the very same text.
      const literal = text.toString('latin1', start, at);
      if (String(Number(literal)) !== literal) return false;
    }
    this.at = start;
    this.copy(start, at);
    return true;
  }

  /** Copies `text[from, to)` to `out` and reads on from `to`. */
  private copy(from: number, to: number): void {
    this.written = copyBytes(this.text, from, to, this.out, this.written);
    this.at = to;
  }

  private digits(from: number): number {
    const { text } = this;
    let at = from;
    while (at < text.length && text[at]! >= ZERO && text[at]! <= NINE) at++;
    return at;
  }

  private array(depth: number): boolean {
    const { text, out } = this;
    out[this.written++] = OPEN_BRACKET;
    this.at++;
    this.skipWhitespace();
    if (text[this.at] === CLOSE_BRACKET) {
      this.at++;
      out[this.written++] = CLOSE_BRACKET;
      return true;
    }
    for (;;) {
      if (!this.value(depth + 1)) return false;
      this.skipWhitespace();
      const c = text[this.at++];
      if (c === CLOSE_BRACKET) {
        out[this.written++] = CLOSE_BRACKET;
        return true;
      }
      if (c !== COMMA) return false;
      out[this.written++] = COMMA;
    }
  }

  private object(depth: number): boolean {
    const { text, out } = this;
    out[this.written++] = OPEN_BRACE;
    this.at++;
    this.skipWhitespace();
    if (text[this.at] === CLOSE_BRACE) {
      this.at++;
      out[this.written++] = CLOSE_BRACE;
      return true;
    }
    // Per member: its key's first and end byte in `text`, its first and end byte in `out`.
    const members: number[] = [];
    let sorted = true;
    for (;;) {
      this.skipWhitespace();
      if (text[this.at] !== QUOTE) return false;
      const keyStart = this.at + 1;
      const keyEnd = this.plainKeyEnd(keyStart);
      if (keyEnd < 0) return false;
      const outStart = this.written;
      this.copy(this.at, keyEnd + 1);
      this.skipWhitespace();
      if (text[this.at++] !== COLON) return false;
      out[this.written++] = COLON;
      if (!this.value(depth + 1)) return false;
      const count = members.length;
      if (count > 0 && compareKeys(text, members[count - 4]!, members[count - 3]!, keyStart, keyEnd) >= 0)
        sorted = false;
      members.push(keyStart, keyEnd, outStart, this.written);
      this.skipWhitespace();
      const c = text[this.at++];
      if (c === CLOSE_BRACE) break;
      if (c !== COMMA) return false;
      out[this.written++] = COMMA;
    }
    if (!sorted && !this.sortMembers(members)) return false;
    out[this.written++] = CLOSE_BRACE;
    return true;
  }

  /**
   * The end (closing quote) of a key made of printable ASCII without escapes, that is not all
   * digits and not `__proto__`; -1 for any other key.
   */
  private plainKeyEnd(start: number): number {
    const { text } = this;
    let allDigits = true;
    for (let at = start; at < text.length; at++) {
      const c = text[at]!;
      if (c === QUOTE) {
        if (allDigits && at > start) return -1;
        if (at - start === PROTO.length && PROTO.equals(text.subarray(start, at))) return -1;
        return at;
      }
      if (c < SPACE || c >= 128 || c === BACKSLASH) return -1;
      if (c < ZERO || c > NINE) allDigits = false;
    }
    return -1;
  }

  /** Rewrites the object's members (already in `out`) in key order; false on a duplicate key. */
  private sortMembers(members: number[]): boolean {
    const { text, out } = this;
    const count = members.length / 4;
    const order: number[] = [];
    for (let k = 0; k < count; k++) order.push(k * 4);
    const byKey = (a: number, b: number) =>
      compareKeys(text, members[a]!, members[a + 1]!, members[b]!, members[b + 1]!);
    if (count > INSERTION_SORT_MAX) order.sort(byKey);
    else {
      for (let k = 1; k < count; k++) {
        const m = order[k]!;
        let j = k - 1;
        for (; j >= 0 && byKey(order[j]!, m) > 0; j--) order[j + 1] = order[j]!;
        order[j + 1] = m;
      }
    }
    for (let k = 1; k < count; k++) {
      const a = order[k - 1]!;
      const b = order[k]!;
      if (compareKeys(text, members[a]!, members[a + 1]!, members[b]!, members[b + 1]!) === 0) return false;
    }
    const first = members[2]!;
    const length = this.written - first;
    if (scratch.length < length) scratch = Buffer.allocUnsafe(length);
    copyBytes(out, first, this.written, scratch, 0);
    let written = first;
    for (let k = 0; k < count; k++) {
      const m = order[k]!;
      if (k > 0) out[written++] = COMMA;
      written = copyBytes(scratch, members[m + 2]! - first, members[m + 3]! - first, out, written);
    }
    return true;
  }
}

/** Copies `from[start, end)` to `to` at `at`; returns the end of the copy in `to`. */
function copyBytes(from: Buffer, start: number, end: number, to: Buffer, at: number): number {
  if (end - start >= SHORT_COPY) return at + from.copy(to, at, start, end);
  let written = at;
  for (let k = start; k < end; k++) to[written++] = from[k]!;
  return written;
}

/**
 * True when any byte is below 0x20, four at a time: a word has a byte below n (n <= 128) exactly
 * when (w - n * 0x01010101) & ~w & 0x80808080 is not 0 ("Bit Twiddling Hacks", hasless). The
 * regular expression it replaces cost more than the rest of the rewrite together.
 */
export function hasControlByte(bytes: Buffer): boolean {
  const words = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const end = bytes.length - (bytes.length % 4);
  for (let at = 0; at < end; at += 4) {
    const w = words.getUint32(at, true);
    if (((w - 0x20202020) & ~w & 0x80808080) !== 0) return true;
  }
  for (let at = end; at < bytes.length; at++) if (bytes[at]! < SPACE) return true;
  return false;
}

/** Orders two ASCII keys of `text` as Array#sort orders strings: by UTF-16 code unit, for ASCII by byte. */
function compareKeys(text: Uint8Array, aStart: number, aEnd: number, bStart: number, bEnd: number): number {
  const aLength = aEnd - aStart;
  const bLength = bEnd - bStart;
  const shorter = Math.min(aLength, bLength);
  for (let k = 0; k < shorter; k++) {
    const d = text[aStart + k]! - text[bStart + k]!;
    if (d !== 0) return d;
  }
  return aLength - bLength;
}
