import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';

/**
 * A fetch for one issuer that trusts exactly the CA(s) in its `caFile` (a private CA, as IdPs
 * inside a company often have), without touching the process-wide trust (no
 * NODE_TLS_REJECT_UNAUTHORIZED, no NODE_EXTRA_CA_CERTS). Only what discovery and the JWKS
 * fetch need: GET, no redirects (callers refuse them anyway), a bounded body.
 */

const MAX_BODY_BYTES = 2 * 1024 * 1024;

function headerRecord(headers: RequestInit['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  new Headers(headers).forEach((value, key) => {
    out[key] = value;
  });
  return out;
}

/** Reads `caFile` now (a missing file fails start-up) and returns a fetch that verifies against it; plain http is refused. */
export function createIssuerFetch(caFile: string): typeof fetch {
  const ca = readFileSync(caFile, 'utf8');
  const agent = new Agent({ ca, keepAlive: true, maxSockets: 2 });
  const issuerFetch = (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    // Never plaintext: the CA file says this issuer is reached over TLS.
    if (url.protocol !== 'https:') {
      return Promise.reject(
        new TypeError(`expected an https URL for an issuer with caFile, got ${url.protocol}`),
      );
    }
    return new Promise<Response>((resolve, reject) => {
      const req = request(
        url,
        {
          method: init?.method ?? 'GET',
          headers: headerRecord(init?.headers),
          agent,
          signal: init?.signal ?? undefined,
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_BODY_BYTES) {
              req.destroy(new Error('response body too large'));
              return;
            }
            chunks.push(chunk);
          });
          res.on('end', () => {
            const status = res.statusCode ?? 502;
            const headers = new Headers();
            for (const [key, value] of Object.entries(res.headers)) {
              if (typeof value === 'string') headers.set(key, value);
            }
            const body = status === 204 || status === 304 ? null : Buffer.concat(chunks);
            resolve(new Response(body, { status, headers }));
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end();
    });
  };
  return issuerFetch as typeof fetch;
}
