import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Writing answers the way the contract wants them: compact JSON with sorted object keys, the
 * CORS headers on every response, and an ETag (md5 of the body) on 2xx with If-None-Match → 304.
 */

export const SUCCESS_TYPE = 'application/vnd.kafka.json.v2+json';

const CORS: Readonly<Record<string, string>> = Object.freeze({
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'DELETE, GET, OPTIONS, POST, PUT',
  'access-control-allow-headers': 'Authorization, Content-Type',
});

/** JSON with object keys sorted at every level (arrays keep their order). */
export function sortedJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v) || Buffer.isBuffer(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
    return sorted;
  });
}

/** Sorts object keys at every level, for a value about to be stringified without a replacer. */
export function sortKeysDeep(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(sortKeysDeep);
  const sorted: Record<string, unknown> = {};
  for (const k of Object.keys(value).sort()) sorted[k] = sortKeysDeep((value as Record<string, unknown>)[k]);
  return sorted;
}

export function send(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  body: string | Buffer | null,
  contentType: string = SUCCESS_TYPE,
  extraHeaders: Readonly<Record<string, string>> = {},
): void {
  const headers: Record<string, string> = { ...CORS, ...extraHeaders };
  if (body === null) {
    res.writeHead(status, headers);
    res.end();
    return;
  }
  // Encoded once: the ETag, the length and the socket all take these bytes (a records answer is
  // megabytes; hashing the string, measuring it and writing it each encoded it again). The
  // records answer comes as bytes already (records-body.ts).
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  headers['content-type'] = contentType;
  if (status >= 200 && status < 300) {
    const etag = `"${createHash('md5').update(bytes).digest('hex')}"`;
    headers.etag = etag;
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
  }
  headers['content-length'] = String(bytes.length);
  res.writeHead(status, headers);
  res.end(bytes);
}

export function sendJson(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  value: unknown,
  contentType: string = SUCCESS_TYPE,
  extraHeaders: Readonly<Record<string, string>> = {},
): void {
  send(req, res, status, sortedJson(value), contentType, extraHeaders);
}

export function sendEmpty(req: IncomingMessage, res: ServerResponse, status: number): void {
  send(req, res, status, null);
}
