import { request } from 'node:http';
import { stackValue } from './stack-env.ts';

/** A small REST v2 client for the tests: every call goes through Envoy (TOLLGATE_URL). */

export interface ApiOptions {
  readonly token?: string;
  readonly body?: unknown;
  readonly rawBody?: string;
  readonly contentType?: string;
  readonly accept?: string;
  readonly headers?: Record<string, string>;
  readonly base?: string;
}

export interface ApiResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  // biome-ignore lint/suspicious/noExplicitAny: test convenience: bodies are asserted field by field.
  readonly json: any;
}

export async function api(method: string, path: string, opts: ApiOptions = {}): Promise<ApiResponse> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.accept) headers.accept = opts.accept;
  let body: string | undefined;
  if (opts.rawBody !== undefined) body = opts.rawBody;
  else if (opts.body !== undefined) body = JSON.stringify(opts.body);
  if (body !== undefined || opts.contentType) {
    headers['content-type'] = opts.contentType ?? 'application/vnd.kafka.json.v2+json';
  }
  const url = `${opts.base ?? stackValue('TOLLGATE_URL')}${path}`;
  if (method === 'GET' && body !== undefined) return getWithBody(url, headers, body);
  const res = await fetch(url, {
    method,
    headers,
    body,
    signal: AbortSignal.timeout(60_000),
  });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text === '' ? null : JSON.parse(text);
  } catch {
    json = null;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** GET .../offsets carries a JSON body, which fetch() refuses to send on a GET. */
function getWithBody(url: string, headers: Record<string, string>, body: string): Promise<ApiResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'GET', headers: { ...headers, 'content-length': Buffer.byteLength(body) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown = null;
          try {
            json = text === '' ? null : JSON.parse(text);
          } catch {
            json = null;
          }
          const h = new Headers();
          for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') h.set(k, v);
          resolve({ status: res.statusCode ?? 0, headers: h, text, json });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export const JSON_V2 = 'application/vnd.kafka.json.v2+json';
export const BINARY_V2 = 'application/vnd.kafka.binary.v2+json';

/** Creates a consumer instance and returns its path (from base_uri). */
export async function createConsumer(
  token: string,
  group: string,
  config: Record<string, unknown> = {},
): Promise<string> {
  const res = await api('POST', `/consumers/${group}`, {
    token,
    body: config,
    contentType: 'application/vnd.kafka.v2+json',
  });
  if (res.status !== 200) throw new Error(`create consumer: ${res.status} ${res.text}`);
  return new URL(res.json.base_uri).pathname;
}

/** Polls records until `want` arrived (a count, or a test over all records so far) or `deadlineMs` passed. */
export async function pollUntil(
  token: string,
  instancePath: string,
  accept: string,
  // biome-ignore lint/suspicious/noExplicitAny: records are asserted by the caller.
  want: number | ((records: any[]) => boolean),
  deadlineMs = 30_000,
  // biome-ignore lint/suspicious/noExplicitAny: records are asserted by the caller.
): Promise<any[]> {
  // biome-ignore lint/suspicious/noExplicitAny: as above.
  const got: any[] = [];
  const end = Date.now() + deadlineMs;
  const done = typeof want === 'number' ? () => got.length >= want : () => want(got);
  while (!done() && Date.now() < end) {
    const res = await api('GET', `${instancePath}/records?timeout=1000`, { token, accept });
    if (res.status !== 200) throw new Error(`records: ${res.status} ${res.text}`);
    got.push(...res.json);
  }
  return got;
}
