import type { ErrorCode } from '../errors.ts';

/**
 * What we accept in a JWS protected header, decided before any key is looked
 * up (RFC 8725 §3.1, §3.11). The header is attacker-controlled at this point,
 * so nothing in it is trusted or fetched. `jku`, `x5u`, `jwk` and `x5c` are
 * ignored on purpose: the key comes only from the issuer's JWKS.
 */

export type HeaderVerdict = { ok: true } | { ok: false; code: ErrorCode; reason: string };

const MAX_KID_LENGTH = 256;
const OK: HeaderVerdict = Object.freeze({ ok: true });

/**
 * Checks the parts of the header that do not depend on the issuer. Fails with
 * JWT_UNSUPPORTED (JWE, `crit`, nested JWT), JWT_ALG_NOT_ALLOWED (`none`,
 * HMAC) or JWT_INVALID (missing `alg`, unusable `kid`).
 */
export function checkProtectedHeader(header: Readonly<Record<string, unknown>>): HeaderVerdict {
  if (header.enc !== undefined) return deny('JWT_UNSUPPORTED', 'encrypted tokens (JWE) are not accepted');
  // We understand no extensions, so any critical one must be refused (RFC 7515 §4.1.11).
  if (header.crit !== undefined)
    return deny('JWT_UNSUPPORTED', 'critical header extensions are not supported');
  const { alg, cty, kid } = header;
  if (typeof alg !== 'string' || alg === '') return deny('JWT_INVALID', 'expected a string "alg" header');
  // Never `none`, and never HMAC: an HS* token "signed" with a public key must not verify.
  if (alg.toLowerCase() === 'none' || alg.startsWith('HS')) {
    return deny('JWT_ALG_NOT_ALLOWED', 'expected an asymmetric signature algorithm');
  }
  if (typeof cty === 'string' && isNestedJwt(cty)) {
    return deny('JWT_UNSUPPORTED', 'nested tokens (cty JWT) are not accepted');
  }
  if (kid !== undefined && !isUsableKid(kid)) {
    return deny('JWT_INVALID', 'expected "kid" to be printable ASCII of at most 256 characters');
  }
  return OK;
}

/** Checks `alg` against the issuer's allow-list; fails with JWT_ALG_NOT_ALLOWED. */
export function checkAlgorithm(
  header: Readonly<Record<string, unknown>>,
  allowed: ReadonlySet<string>,
): HeaderVerdict {
  return typeof header.alg === 'string' && allowed.has(header.alg)
    ? OK
    : deny('JWT_ALG_NOT_ALLOWED', 'the algorithm is not allowed for this issuer');
}

function isNestedJwt(cty: string): boolean {
  const lower = cty.toLowerCase();
  return lower === 'jwt' || lower === 'application/jwt';
}

// The kid is only ever compared for equality against JWKS entries, but it can
// reach logs and error pages elsewhere: refuse control characters (log
// injection), non-ASCII and absurd lengths outright.
function isUsableKid(kid: unknown): boolean {
  if (typeof kid !== 'string' || kid.length === 0 || kid.length > MAX_KID_LENGTH) return false;
  for (let i = 0; i < kid.length; i++) {
    const c = kid.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

function deny(code: ErrorCode, reason: string): HeaderVerdict {
  return { ok: false, code, reason };
}
