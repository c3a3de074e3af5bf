import { decodeJwt, decodeProtectedHeader, type JWTVerifyOptions, jwtVerify } from 'jose';
import type { IssuerConfig, JwtConfig } from '../config/schema.ts';
import type { ErrorCode } from '../errors.ts';
import { checkCompactShape } from './bearer.ts';
import type { CertificateBinding } from './certificate-binding.ts';
import {
  type ClaimPath,
  compileClaimPath,
  hasRequiredScopes,
  isAccessToken,
  isIssuedInFuture,
  readPrincipal,
} from './claim-rules.ts';
import { checkAlgorithm, checkProtectedHeader } from './header-policy.ts';
import { mapVerifyError } from './jose-errors.ts';
import { createIssuerKeySet, type IssuerKeySet, type JwksFetchResult } from './jwks-cache.ts';
import { hashToken, TokenCache } from './token-cache.ts';

/**
 * Token verification: from a bearer token to a verified principal, or a coded
 * denial. The story of `verify`: cache lookup, header policy, issuer by the
 * (unverified) `iss`, jose signature and claim checks against that issuer's
 * keys, then our own `iat`, scope and principal rules. Denials are values;
 * nothing here throws to the caller.
 */

export interface VerifiedToken {
  readonly ok: true;
  readonly issuer: string;
  readonly principal: string;
  readonly expiresAtMs: number;
  readonly claims: Readonly<Record<string, unknown>>;
  /** sha256 of the token, base64url: safe to log, the token itself never is. */
  readonly tokenHash: string;
  /** The issuer's RFC 8705 policy, for the caller's check against the connection's certificate. */
  readonly certificateBinding: CertificateBinding;
  /** True when answered from the verified-token cache (no signature work). */
  readonly cached: boolean;
}

export interface TokenFailure {
  readonly ok: false;
  readonly code: ErrorCode;
  /** Short and human; never contains the token or its claims. */
  readonly reason: string;
}

export type VerifyResult = VerifiedToken | TokenFailure;

export interface TokenVerifier {
  /** Verifies a compact JWS; resolves to the verified token or a failure with its code. Never rejects. */
  verify(token: string): Promise<VerifyResult>;
  /**
   * The token's live entry in the verified-token cache, synchronously, counted as a cache hit;
   * undefined (and nothing counted) when `verify` has to be asked. Never throws. A verifier
   * without a cache leaves it out.
   */
  verifyCached?(token: string): VerifiedToken | undefined;
  /** True once every issuer's keys have been fetched at least once. */
  ready(): boolean;
  /** Starts the background JWKS loads and refreshes. */
  start(): void;
  stop(): void;
  /** Refetches every issuer's keys now, bypassing cooldowns; resolves false if any fetch failed. */
  refreshKeys(): Promise<boolean>;
}

export interface TokenVerifierDeps {
  /** Epoch milliseconds; defaults to Date.now. Drives exp/nbf/iat checks and cache expiry. */
  readonly now?: () => number;
  readonly fetch?: typeof fetch;
  readonly onJwksFetch?: (issuer: string, result: JwksFetchResult) => void;
  /** Called once per verify that reached the cache: true on a hit. */
  readonly onCache?: (hit: boolean) => void;
  /** An exception that is not a verdict: the caller logs it (with its stack); the answer is INTERNAL. */
  readonly onUnexpectedError?: (err: unknown) => void;
}

interface TrustedIssuer {
  readonly issuer: string;
  readonly keySet: IssuerKeySet;
  readonly algorithms: ReadonlySet<string>;
  readonly principalPath: ClaimPath;
  readonly requiredScopes: readonly string[];
  readonly accessTokensOnly: boolean;
  readonly certificateBinding: CertificateBinding;
  readonly verifyOptions: Readonly<JWTVerifyOptions>;
}

/**
 * Builds the verifier for the configured issuers. Failure codes: the TOKEN_*,
 * JWT_*, PRINCIPAL_MISSING and JWT_SCOPE_MISSING authentication codes,
 * JWKS_UNAVAILABLE, and INTERNAL for anything unexpected (fail closed).
 */
export function createTokenVerifier(
  issuers: readonly IssuerConfig[],
  jwt: JwtConfig,
  deps: TokenVerifierDeps = {},
): TokenVerifier {
  const now = deps.now ?? Date.now;
  const onCache = deps.onCache;
  const cache = new TokenCache<VerifiedToken>(jwt.cacheMaxEntries);
  const inFlight = new Map<string, Promise<VerifyResult>>();
  // Bumped when a JWKS refresh drops a key: cached tokens signed by it must
  // not outlive it, and a verification that started before the drop must not
  // put its result back into the cache.
  let keyGeneration = 0;
  const keySetDeps = {
    fetch: deps.fetch,
    onFetch: deps.onJwksFetch,
    onKeysRemoved: () => {
      keyGeneration++;
      cache.clear();
    },
  };

  const trusted = new Map<string, TrustedIssuer>();
  for (const issuer of issuers) {
    trusted.set(issuer.issuer, {
      issuer: issuer.issuer,
      keySet: createIssuerKeySet(issuer, jwt, keySetDeps),
      algorithms: new Set(issuer.algorithms),
      principalPath: compileClaimPath(issuer.principalClaim),
      requiredScopes: issuer.requiredScopes,
      accessTokensOnly: issuer.tokenUse !== 'any',
      certificateBinding: issuer.certificateBinding,
      verifyOptions: Object.freeze({
        issuer: issuer.issuer,
        audience: issuer.audiences,
        algorithms: issuer.algorithms,
        clockTolerance: jwt.clockSkewSec,
        typ: issuer.requiredType,
        requiredClaims: ['exp'],
      }),
    });
  }

  function verifyCached(token: string): VerifiedToken | undefined {
    try {
      if (typeof token !== 'string' || token.length > jwt.maxTokenBytes) return undefined;
      const hit = cache.get(token, now());
      if (hit !== undefined) onCache?.(true);
      return hit;
    } catch (err) {
      // `verify` will answer (and fail closed) if this was no accident.
      deps.onUnexpectedError?.(err);
      return undefined;
    }
  }

  async function verify(token: string): Promise<VerifyResult> {
    try {
      if (typeof token !== 'string') return deny('TOKEN_MALFORMED', 'expected a token string');
      if (token.length > jwt.maxTokenBytes)
        return deny('TOKEN_TOO_LARGE', 'the token exceeds the size limit');
      const hit = cache.get(token, now());
      onCache?.(hit !== undefined);
      if (hit !== undefined) return hit;

      // Concurrent requests carrying the same new token share one verification.
      const pending = inFlight.get(token);
      if (pending !== undefined) return await pending;
      const verification = verifyUncached(token);
      inFlight.set(token, verification);
      try {
        return await verification;
      } finally {
        inFlight.delete(token);
      }
    } catch (err) {
      deps.onUnexpectedError?.(err);
      // Fail closed: an unexpected error must never read as a verified token.
      return deny('INTERNAL', 'unexpected error while verifying the token');
    }
  }

  async function verifyUncached(token: string): Promise<VerifyResult> {
    const shapeCode = checkCompactShape(token);
    if (shapeCode !== undefined) return deny(shapeCode, 'expected a compact JWS: three base64url segments');

    let header: Record<string, unknown>;
    let unverifiedClaims: Record<string, unknown>;
    try {
      // Neither is trusted yet: they only choose which checks and keys apply.
      header = decodeProtectedHeader(token);
      unverifiedClaims = decodeJwt(token);
    } catch {
      return deny('JWT_INVALID', 'expected base64url JSON objects in the header and payload');
    }
    const headerVerdict = checkProtectedHeader(header);
    if (!headerVerdict.ok) return deny(headerVerdict.code, headerVerdict.reason);

    const issuer = typeof unverifiedClaims.iss === 'string' ? trusted.get(unverifiedClaims.iss) : undefined;
    if (issuer === undefined) return deny('JWT_ISSUER_UNTRUSTED', 'the issuer is not trusted');
    const algVerdict = checkAlgorithm(header, issuer.algorithms);
    if (!algVerdict.ok) return deny(algVerdict.code, algVerdict.reason);

    const generation = keyGeneration;
    const verifiedAtMs = now();
    let claims: Record<string, unknown>;
    try {
      const result = await jwtVerify(token, issuer.keySet.resolveKey, {
        ...issuer.verifyOptions,
        currentDate: new Date(verifiedAtMs),
      });
      claims = result.payload;
    } catch (err) {
      const mapped = mapVerifyError(err);
      if (mapped.code === 'INTERNAL') deps.onUnexpectedError?.(err);
      return deny(mapped.code, mapped.reason);
    }

    // An ID token proves a login to its client, not a grant to call Kafka (issue 11).
    if (issuer.accessTokensOnly && !isAccessToken(header, claims)) {
      return deny('JWT_TYPE_INVALID', 'expected an access token, not an ID token or another token type');
    }
    if (isIssuedInFuture(claims, Math.floor(verifiedAtMs / 1000), jwt.clockSkewSec)) {
      return deny('JWT_NOT_YET_VALID', 'the token is not valid yet (nbf or iat in the future)');
    }
    if (!hasRequiredScopes(claims, issuer.requiredScopes)) {
      return deny('JWT_SCOPE_MISSING', 'the token lacks a required scope');
    }
    const principal = readPrincipal(claims, issuer.principalPath);
    if (principal === undefined) {
      return deny(
        'PRINCIPAL_MISSING',
        `expected the "${issuer.principalPath.name}" claim to be a non-empty string`,
      );
    }

    // jose has checked that exp exists and is a number.
    const expiresAtMs = (claims.exp as number) * 1000;
    // Computed once per verification: the cache is keyed by the token, the logs get the hash.
    const tokenHash = hashToken(token);
    const verified: VerifiedToken = Object.freeze({
      ok: true,
      issuer: issuer.issuer,
      principal,
      expiresAtMs,
      claims: Object.freeze(claims),
      tokenHash,
      certificateBinding: issuer.certificateBinding,
      cached: false,
    });
    if (generation === keyGeneration) {
      // The cache holds a `cached: true` twin, so a hit returns it without allocating.
      cache.set(token, Object.freeze({ ...verified, cached: true }), now());
    }
    return verified;
  }

  return {
    verify,
    verifyCached,
    ready: () => {
      for (const issuer of trusted.values()) if (!issuer.keySet.isLoaded()) return false;
      return true;
    },
    start: () => {
      for (const issuer of trusted.values()) issuer.keySet.start();
    },
    stop: () => {
      for (const issuer of trusted.values()) issuer.keySet.stop();
    },
    refreshKeys: async () => {
      const results = await Promise.all(Array.from(trusted.values(), (issuer) => issuer.keySet.refresh()));
      return results.every(Boolean);
    },
  };
}

function deny(code: ErrorCode, reason: string): TokenFailure {
  return { ok: false, code, reason };
}
