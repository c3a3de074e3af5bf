import { ServiceError } from '../errors.ts';

/**
 * Finds an issuer's JWKS URL through OpenID Connect Discovery 1.0. Runs at
 * start-up (and until it first succeeds), never per request.
 */

const MAX_DOCUMENT_BYTES = 256 * 1024;

/** `<issuer>/.well-known/openid-configuration`, as OIDC Discovery §4 builds it (one slash, whatever the issuer ends with). */
export function defaultDiscoveryUrl(issuer: string): string {
  return `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
}

/**
 * Fetches the discovery document and returns its `jwks_uri`. Fails with
 * JWKS_UNAVAILABLE when the document cannot be fetched or parsed, lacks an
 * http(s) `jwks_uri`, or names an `issuer` other than the configured one
 * (OIDC Discovery §4.3: a mismatch means the document is not this issuer's).
 */
export async function discoverJwksUrl(
  issuer: string,
  discoveryUrl: string,
  fetchImpl: typeof fetch,
  signal: AbortSignal,
): Promise<URL> {
  let document: unknown;
  try {
    // No redirects: a discovery document that moves is a configuration change, not something to follow.
    const response = await fetchImpl(discoveryUrl, {
      method: 'GET',
      redirect: 'manual',
      signal,
      headers: { accept: 'application/json' },
    });
    if (response.status !== 200) {
      await response.body?.cancel();
      throw new Error(`expected HTTP 200, got ${response.status}`);
    }
    const text = await response.text();
    if (text.length > MAX_DOCUMENT_BYTES) throw new Error('document too large');
    document = JSON.parse(text);
  } catch (cause) {
    throw new ServiceError('JWKS_UNAVAILABLE', `OIDC discovery failed for ${issuer}`, { cause });
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    throw new ServiceError('JWKS_UNAVAILABLE', `OIDC discovery for ${issuer}: expected a JSON object`);
  }
  const { issuer: documentIssuer, jwks_uri: jwksUri } = document as Record<string, unknown>;
  if (documentIssuer !== issuer) {
    throw new ServiceError(
      'JWKS_UNAVAILABLE',
      `OIDC discovery for ${issuer}: expected the document's "issuer" to equal the configured issuer exactly`,
    );
  }
  const url = typeof jwksUri === 'string' && URL.canParse(jwksUri) ? new URL(jwksUri) : undefined;
  if (url === undefined || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    throw new ServiceError(
      'JWKS_UNAVAILABLE',
      `OIDC discovery for ${issuer}: expected an http(s) "jwks_uri"`,
    );
  }
  return url;
}
