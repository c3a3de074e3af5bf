import type { ErrorCode } from '../errors.ts';

/**
 * `Authorization: Bearer <token>` extraction (RFC 6750 §2.1). Only the
 * header form is accepted: tokens in query strings or bodies end up in logs.
 * Runs on every request, so it scans characters instead of using a regex and
 * allocates nothing but the token slice.
 */

export type BearerResult = { ok: true; token: string } | { ok: false; code: ErrorCode };

const SCHEME = 'bearer';
const SPACE = 0x20;
const TAB = 0x09;
const DOT = 0x2e;

/**
 * Returns the token from the request's Authorization header value(s), or the
 * code saying why there is none: TOKEN_MISSING, TOKEN_MALFORMED,
 * TOKEN_TOO_LARGE or JWT_UNSUPPORTED (an encrypted JWT).
 */
export function extractBearer(
  values: readonly string[] | string | undefined,
  maxTokenBytes: number,
): BearerResult {
  let value: string | undefined;
  if (typeof values === 'string') {
    value = values;
  } else if (values !== undefined) {
    if (values.length === 0) return { ok: false, code: 'TOKEN_MISSING' };
    // Two Authorization headers: we cannot know which one the caller meant.
    if (values.length > 1) return { ok: false, code: 'TOKEN_MALFORMED' };
    value = values[0];
  }
  if (value === undefined) return { ok: false, code: 'TOKEN_MISSING' };

  if (!hasBearerScheme(value)) return { ok: false, code: 'TOKEN_MALFORMED' };
  let start = SCHEME.length;
  let end = value.length;
  // 1*SP between scheme and token; HTTP parsers already drop trailing OWS, be lenient too.
  while (start < end && value.charCodeAt(start) === SPACE) start++;
  while (end > start && isWhitespace(value.charCodeAt(end - 1))) end--;
  if (start === end) return { ok: false, code: 'TOKEN_MALFORMED' };
  // Measured before the scan so an oversized header costs nothing more.
  if (end - start > maxTokenBytes) return { ok: false, code: 'TOKEN_TOO_LARGE' };

  const token = value.slice(start, end);
  const code = checkCompactShape(token);
  return code === undefined ? { ok: true, token } : { ok: false, code };
}

/**
 * Checks that `token` is JWS Compact Serialization: three base64url segments,
 * header and payload non-empty (an empty signature is left for the verifier to
 * refuse by its `alg`). A comma — Envoy's join of repeated headers — or any
 * other character outside base64url gives TOKEN_MALFORMED; five segments (JWE)
 * give JWT_UNSUPPORTED.
 */
export function checkCompactShape(token: string): ErrorCode | undefined {
  let dots = 0;
  let segmentLength = 0;
  let emptyLeadingSegment = false;
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i);
    if (c === DOT) {
      if (dots < 2 && segmentLength === 0) emptyLeadingSegment = true;
      if (!isValidBase64urlLength(segmentLength)) return 'TOKEN_MALFORMED';
      dots++;
      segmentLength = 0;
    } else if (isBase64urlChar(c)) {
      segmentLength++;
    } else {
      return 'TOKEN_MALFORMED';
    }
  }
  if (!isValidBase64urlLength(segmentLength)) return 'TOKEN_MALFORMED';
  // JWE compact has five segments, some of which may be empty (RFC 7516 §7.1).
  if (dots === 4) return 'JWT_UNSUPPORTED';
  if (dots !== 2 || emptyLeadingSegment) return 'TOKEN_MALFORMED';
  return undefined;
}

function hasBearerScheme(value: string): boolean {
  if (value.length < SCHEME.length) return false;
  for (let i = 0; i < SCHEME.length; i++) {
    // ASCII case-fold: the scheme is case-insensitive (RFC 9110 §11.1).
    if ((value.charCodeAt(i) | 0x20) !== SCHEME.charCodeAt(i)) return false;
  }
  return value.length === SCHEME.length || value.charCodeAt(SCHEME.length) === SPACE;
}

function isWhitespace(c: number): boolean {
  return c === SPACE || c === TAB;
}

function isBase64urlChar(c: number): boolean {
  return (
    (c >= 0x41 && c <= 0x5a) || // A-Z
    (c >= 0x61 && c <= 0x7a) || // a-z
    (c >= 0x30 && c <= 0x39) || // 0-9
    c === 0x2d || // -
    c === 0x5f // _
  );
}

// Unpadded base64url never leaves a single character in the last quantum.
function isValidBase64urlLength(length: number): boolean {
  return length % 4 !== 1;
}
