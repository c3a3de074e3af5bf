import { DevIssuer, type SigningAlg } from '../../src/dev/issuer.ts';
import { freePort } from './ports.ts';

/**
 * The tokens every part sends, all from one in-process dev issuer (src/dev/issuer.ts) whose
 * JWKS and discovery document the servers under test fetch over loopback:
 *  - cached:  one valid token, sent again and again (a verified-token cache hit);
 *  - fresh:   a pool of distinct valid tokens (distinct jti), larger than the servers'
 *             verified-token caches and sent round robin, so each lookup misses and every
 *             request pays a signature check;
 *  - invalid: the fresh tokens with another token's signature spliced on: well formed, known
 *             kid, valid claims, wrong signature, so each costs a full verification.
 * RS256 throughout: the default of most IdPs (Keycloak, Entra ID, Auth0, Okta). The issuer
 * holds an ES256 key too (generated at start, in memory only, like the RSA-2048 one), and
 * `mintPool` signs a pool with it where a part compares the two (verify-rate).
 */

export const AUDIENCE = 'kafka';
export const PRINCIPAL = 'alice';

export interface TokenFixture {
  readonly issuer: DevIssuer;
  readonly issuerUrl: string;
  readonly cached: string;
  readonly fresh: readonly string[];
  readonly invalid: readonly string[];
  /** The issuer's public keys as a JWKS JSON text (for OPA data and Envoy's local_jwks). */
  readonly jwksJson: string;
  readonly mintSec: number;
}

export async function createTokenFixture(poolSize: number): Promise<TokenFixture> {
  const port = await freePort();
  const issuer = new DevIssuer({
    host: '127.0.0.1',
    port,
    audience: AUDIENCE,
    clients: [{ id: PRINCIPAL, secret: 'bench-only', claims: { preferred_username: 'alice.smith' } }],
    // Long enough for the longest full run; nothing expires mid-benchmark.
    defaultTtlSec: 6 * 3600,
    defaultAlg: 'RS256',
  });
  await issuer.start();
  const started = performance.now();
  const cached = await issuer.mint(PRINCIPAL);
  const fresh = await mintPool(issuer, 'RS256', poolSize);
  const invalid = fresh.map((token, i) => {
    const other = fresh[(i + 1) % fresh.length]!;
    return `${token.slice(0, token.lastIndexOf('.'))}${other.slice(other.lastIndexOf('.'))}`;
  });
  return {
    issuer,
    issuerUrl: issuer.url,
    cached,
    fresh,
    invalid,
    jwksJson: JSON.stringify(issuer.jwks()),
    mintSec: (performance.now() - started) / 1000,
  };
}

/** `count` distinct valid tokens for `alice` (distinct jti) signed with the issuer's `alg` key. */
export async function mintPool(issuer: DevIssuer, alg: SigningAlg, count: number): Promise<string[]> {
  const tokens: string[] = [];
  for (let i = 0; i < count; i++) tokens.push(await issuer.mint(PRINCIPAL, { alg }));
  return tokens;
}
