/** OAuth2 client_credentials grant: Tollgate's own Kafka identity (authorization off), the dev CLI and tests. */

export interface TokenRequest {
  readonly tokenUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Dev-issuer extensions: lifetime, algorithm and extra claims. */
  readonly ttl?: string;
  readonly alg?: string;
  readonly claims?: readonly string[];
  readonly scope?: string;
  readonly audience?: string;
  /** Dev issuer: bind the token to the client certificate with this RFC 8705 thumbprint. */
  readonly x5tS256?: string;
}

export interface TokenResponse {
  readonly accessToken: string;
  readonly expiresInSec: number;
}

export async function requestToken(req: TokenRequest): Promise<TokenResponse> {
  const form = new URLSearchParams({ grant_type: 'client_credentials' });
  if (req.ttl) form.set('ttl', req.ttl);
  if (req.alg) form.set('alg', req.alg);
  if (req.scope) form.set('scope', req.scope);
  if (req.audience) form.set('audience', req.audience);
  if (req.x5tS256) form.set('cnf_x5t_s256', req.x5tS256);
  for (const claim of req.claims ?? []) form.append('claim', claim);
  const basic = Buffer.from(
    `${encodeURIComponent(req.clientId)}:${encodeURIComponent(req.clientSecret)}`,
  ).toString('base64');
  const res = await fetch(req.tokenUrl, {
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: form,
    signal: AbortSignal.timeout(5000),
  });
  const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok || typeof body.access_token !== 'string') {
    const why = typeof body.error_description === 'string' ? body.error_description : body.error;
    throw new Error(
      `token request for ${req.clientId} failed: HTTP ${res.status} ${String(why ?? '')}`.trim(),
    );
  }
  return { accessToken: body.access_token, expiresInSec: Number(body.expires_in ?? 0) };
}
