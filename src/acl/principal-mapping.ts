/**
 * Claims -> principal: the value of one configured claim, the meaning Kafka gives
 * `sasl.oauthbearer.sub.claim.name`, extended with dotted paths for IdPs that nest the user
 * name (Keycloak's `realm_access.username`).
 */

export type PrincipalReader = (claims: Record<string, unknown>) => string | null;

/** Own properties only: a path like `constructor.name` must not reach Object.prototype. */
function child(node: unknown, key: string): unknown {
  if (typeof node !== 'object' || node === null || Array.isArray(node)) return undefined;
  return Object.hasOwn(node, key) ? (node as Record<string, unknown>)[key] : undefined;
}

function asPrincipal(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

/**
 * Builds a reader for `claimPath`, split once. The reader returns the claim's value when it is a
 * non-empty string, else null (numbers, arrays, objects, missing). A claim whose own name is the
 * whole path (`https://example.com/user`, as Auth0 namespaces them) wins over walking the dots.
 * Throws at start-up, not per request, when the path has an empty segment.
 */
export function createPrincipalReader(claimPath: string): PrincipalReader {
  const keys = claimPath.split('.');
  if (keys.some((key) => key === '')) {
    throw new Error(
      `principal claim path ${JSON.stringify(claimPath)}: expected names separated by single dots`,
    );
  }
  if (keys.length === 1) return (claims) => asPrincipal(child(claims, claimPath));
  return (claims) => {
    const whole = child(claims, claimPath);
    if (whole !== undefined) return asPrincipal(whole);
    let node: unknown = claims;
    for (const key of keys) {
      node = child(node, key);
      if (node === undefined) return null;
    }
    return asPrincipal(node);
  };
}

/** One-off form of `createPrincipalReader(claimPath)(claims)`; the hot path keeps a reader instead. */
export function readPrincipal(claims: Record<string, unknown>, claimPath: string): string | null {
  return createPrincipalReader(claimPath)(claims);
}
