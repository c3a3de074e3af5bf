import { isAscii } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import { ServiceError } from '../errors.ts';

/**
 * The request body, read up to a limit. Reference section 3: an oversized body is 413; an
 * empty one is "Missing request JSON body"; unparsable JSON "Invalid request JSON body";
 * valid JSON that is not an object "Malformed request".
 */

export function readBody(req: IncomingMessage, limitBytes: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limitBytes) {
    // Drain before answering: a proxy still sending the body would see the early answer and
    // the closed stream as an upstream reset (Envoy turned it into a 503).
    return new Promise((_resolve, reject) => {
      const give = () => reject(tooLarge());
      const timer = setTimeout(give, 10_000);
      req.on('end', () => {
        clearTimeout(timer);
        give();
      });
      req.on('error', () => {
        clearTimeout(timer);
        give();
      });
      req.resume();
    });
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limitBytes) {
        // Keep reading (and discarding) to the end, then answer; see above.
        failed = true;
        chunks.length = 0;
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      // Chunks are kept as they come (never a buffer of the declared size up front: a client
      // could declare 1 MiB on thousands of connections and send nothing).
      if (failed) reject(tooLarge());
      else resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
    });
    req.on('error', (err) => {
      if (!failed) reject(err);
    });
  });
}

function tooLarge(): ServiceError {
  return new ServiceError('REQUEST_TOO_LARGE');
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Deepest nesting of objects and arrays a request body may have (issue 9). A record value
 * nested thousands deep fits in a few KB and overflowed the stack when it was written back out;
 * 64 is far beyond any real payload.
 */
export const MAX_JSON_DEPTH = 64;

/**
 * True when the JSON text opens more than `max` objects/arrays at once (string contents skipped).
 * Strings are skipped with Buffer#indexOf (native) to their closing quote, one not preceded by an
 * odd run of backslashes: a produce body is mostly long base64 strings, and a byte-by-byte walk
 * through them cost more than parsing them.
 */
export function nestsDeeperThan(body: Buffer, max: number): boolean {
  let depth = 0;
  const length = body.length;
  for (let i = 0; i < length; i++) {
    const c = body[i]!;
    if (c === 0x22) {
      i = closingQuote(body, i);
      // Unterminated: no deeper than seen so far; JSON.parse refuses the text anyway.
      if (i < 0) return false;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

/** Index of the quote that closes the string opening at `open`; -1 when there is none. */
function closingQuote(body: Buffer, open: number): number {
  let from = open + 1;
  for (;;) {
    const quote = body.indexOf(0x22, from);
    if (quote < 0) return -1;
    let backslashes = 0;
    for (let k = quote - 1; k > open && body[k] === 0x5c; k--) backslashes++;
    if (backslashes % 2 === 0) return quote;
    from = quote + 1;
  }
}

/** Parses a body that must be a JSON object. */
export function parseJsonObject(body: Buffer): Record<string, unknown> {
  if (body.length === 0) throw new ServiceError('REQUEST_INVALID', 'Missing request JSON body');
  if (nestsDeeperThan(body, MAX_JSON_DEPTH)) {
    throw new ServiceError('REQUEST_INVALID', `Request JSON nests deeper than ${MAX_JSON_DEPTH} levels`);
  }
  let text: string;
  try {
    // All ASCII (every base64 body is): the bytes are the characters, so take them as they
    // are (about twice as fast as the validating decoder); anything else is decoded, and refused
    // when it is not UTF-8.
    text = isAscii(body) ? body.toString('latin1') : utf8.decode(body);
  } catch {
    throw new ServiceError('REQUEST_INVALID', 'Request body is not valid UTF-8');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ServiceError('REQUEST_INVALID', 'Invalid request JSON body');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ServiceError('REQUEST_INVALID', 'Malformed request');
  }
  return value as Record<string, unknown>;
}

/** GET (except offsets) and DELETE accept only an empty body or `{}`. */
export function assertNoBody(body: Buffer): void {
  if (body.length === 0) return;
  const text = body.toString('utf8').trim();
  if (text === '' || text === '{}') return;
  throw new ServiceError('REQUEST_INVALID', 'No request body allowed for this operation');
}
