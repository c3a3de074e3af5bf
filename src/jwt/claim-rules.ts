/**
 * Issuer rules applied to a claims set whose signature has already been
 * verified: the principal claim, required scopes, and an `iat` that jose
 * leaves unchecked. Pure: no clock, no I/O.
 */

type Claims = Readonly<Record<string, unknown>>;

/** A principal claim name split once at start-up, so lookups do no string work. */
export interface ClaimPath {
  readonly name: string;
  readonly segments: readonly string[];
}

/** Splits a dotted claim name (`realm_access.username`) into its segments. */
export function compileClaimPath(name: string): ClaimPath {
  return Object.freeze({ name, segments: Object.freeze(name.split('.')) });
}

/**
 * Returns the principal named by `path`, or undefined unless it is a non-empty
 * string. A top-level claim whose name is the whole path wins over the dotted
 * walk, so claim names that contain dots (`https://example.com/user`) work.
 * Only own properties are read: `__proto__` or `constructor` never resolve.
 */
export function readPrincipal(claims: Claims, path: ClaimPath): string | undefined {
  let value: unknown;
  if (Object.hasOwn(claims, path.name)) {
    value = claims[path.name];
  } else if (path.segments.length > 1) {
    value = claims;
    for (const segment of path.segments) {
      if (
        typeof value !== 'object' ||
        value === null ||
        Array.isArray(value) ||
        !Object.hasOwn(value, segment)
      ) {
        return undefined;
      }
      value = (value as Claims)[segment];
    }
  }
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/**
 * True when every required scope is granted. Scopes come from `scope`
 * (RFC 8693 §4.2: space-separated string) and `scp` (array, or Azure's
 * space-separated string); both are read and merged.
 */
export function hasRequiredScopes(claims: Claims, required: readonly string[]): boolean {
  if (required.length === 0) return true;
  const granted = new Set<string>();
  addScopes(granted, claims.scope);
  addScopes(granted, claims.scp);
  for (const scope of required) {
    if (!granted.has(scope)) return false;
  }
  return true;
}

/**
 * True when `iat` lies beyond now plus the allowed skew. jose 6 checks `iat`
 * against the clock only when `maxTokenAge` is set; a token issued in the
 * future is a clock or forgery problem either way, so we check it ourselves.
 */
export function isIssuedInFuture(claims: Claims, nowSec: number, clockSkewSec: number): boolean {
  return typeof claims.iat === 'number' && claims.iat > nowSec + clockSkewSec;
}

function addScopes(into: Set<string>, value: unknown): void {
  if (typeof value === 'string') {
    for (const scope of value.split(' ')) if (scope !== '') into.add(scope);
  } else if (Array.isArray(value)) {
    for (const scope of value) if (typeof scope === 'string') into.add(scope);
  }
}

// RFC 9068 `at+jwt` (with or without the `application/` prefix) and the plain
// `JWT` that Keycloak, Entra ID and Auth0 put in access-token headers.
const ACCESS_HEADER_TYPES = new Set(['jwt', 'at+jwt', 'application/at+jwt']);
// Claims OpenID Connect Core defines for ID tokens only (§2, §3.1.3.6, §3.3.2.11).
const ID_TOKEN_ONLY_CLAIMS = ['nonce', 'at_hash', 'c_hash', 's_hash'] as const;

/**
 * True unless the token shows it is not an OAuth access token: a header `typ`
 * other than JWT / at+jwt (e.g. `id_token+jwt`, `logout+jwt`), a payload `typ`
 * other than Keycloak's "Bearer" ("ID", "Refresh", "Logout"), or a claim only
 * ID tokens carry. Absent markers pass: Okta and Auth0 access tokens carry none.
 * The issuer's audience check does the rest (an ID token's `aud` is the client).
 */
export function isAccessToken(header: Claims, claims: Claims): boolean {
  if (header.typ !== undefined) {
    if (typeof header.typ !== 'string' || !ACCESS_HEADER_TYPES.has(header.typ.toLowerCase())) return false;
  }
  if (claims.typ !== undefined) {
    if (typeof claims.typ !== 'string' || claims.typ.toLowerCase() !== 'bearer') return false;
  }
  for (const name of ID_TOKEN_ONLY_CLAIMS) if (Object.hasOwn(claims, name)) return false;
  return true;
}
