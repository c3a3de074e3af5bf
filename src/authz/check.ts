import type { CompiledAcls } from '../acl/acl-compile.ts';
import { authorize } from '../acl/acl-match.ts';
import type { ResourceRequest, RuleRef } from '../acl/acl-types.ts';
import type { Config } from '../config/schema.ts';
import { CODE_INFO, type ErrorCode } from '../errors.ts';
import { extractBearer } from '../jwt/bearer.ts';
import { checkCertificateBinding } from '../jwt/certificate-binding.ts';
import type { TokenVerifier } from '../jwt/verifier.ts';
import { type KnownRoute, mapRoute, type RouteId } from './route-map.ts';

/**
 * One authorization check, transport-neutral: the story from an HTTP request line and its
 * Authorization header to a verdict. Extract the bearer token, verify it, map the route to
 * the Kafka operations it performs, decide against the ACLs, apply the mode. The gRPC and
 * HTTP front ends turn the outcome into their protocol's answer; nothing here logs or counts.
 */

export interface CheckInput {
  readonly method: string;
  /** Raw request target as Envoy saw it: path and query string, not percent-decoded. */
  readonly path: string;
  /** Authorization header value(s); more than one is refused. */
  readonly authorization: string | readonly string[] | undefined;
  /** Client address, for ACL rules that name a host. */
  readonly host?: string;
  /** RFC 8705 thumbprint (base64url SHA-256 of the DER) of the client's TLS certificate, if it sent one. */
  readonly clientCertThumbprint?: string;
}

export interface CheckOutcome {
  /** True when the request may pass (in audit mode also for what enforce would deny). */
  readonly allow: boolean;
  /** The verdict before the mode was applied: false means enforce would deny. */
  readonly decidedAllow: boolean;
  /** The reason code of a denial (also of an audit-mode pass), null when allowed outright. */
  readonly code: ErrorCode | null;
  /** Human reason, safe to log and to return: no token, no claims. */
  readonly reason: string;
  /** The principal (service user) when the token verified. */
  readonly principal: string | null;
  readonly issuer: string | null;
  readonly tokenHash: string | null;
  /** The verified token's expiry (epoch ms), when it verified. */
  readonly expiresAtMs: number | null;
  readonly route: RouteId | null;
  /** HTTP status a denied client sees (404/405 for unknown routes). */
  readonly status: number;
  /** What the route requires, and the entry that decided, for logs and `tollgate explain`. */
  readonly requires: readonly ResourceRequest[];
  readonly denied: ResourceRequest | null;
  readonly matched: readonly RuleRef[];
}

export interface CheckerDeps {
  readonly verifier: TokenVerifier;
  /** The ACLs in force now (hot-reloaded); read once per check. */
  readonly acls: () => CompiledAcls;
}

type CheckerConfig = Pick<Config, 'mode' | 'authorization' | 'jwt'>;

const NO_RULES: readonly RuleRef[] = Object.freeze([]);
const NOTHING: readonly ResourceRequest[] = Object.freeze([]);

function describe(request: ResourceRequest): string {
  return `${request.operation} on ${request.resourceType} ${JSON.stringify(request.name)}`;
}

export interface Checker {
  /** Never rejects: an unexpected failure is an INTERNAL denial (fail closed). */
  check(input: CheckInput): Promise<CheckOutcome>;
}

export function createChecker(config: CheckerConfig, deps: CheckerDeps): Checker {
  const audit = config.mode === 'audit';
  const maxTokenBytes = config.jwt.maxTokenBytes;

  function deny(
    code: ErrorCode,
    reason: string,
    route: KnownRoute | null,
    extra: Partial<CheckOutcome> = {},
  ): CheckOutcome {
    // Audit mode passes only ACL verdicts about a verified caller on a known route: an unknown
    // route or a bad token is refused in every mode.
    const passInAudit = audit && (code === 'ACL_DENIED' || code === 'USER_UNKNOWN');
    return {
      allow: passInAudit,
      decidedAllow: false,
      code,
      reason,
      principal: null,
      issuer: null,
      tokenHash: null,
      expiresAtMs: null,
      route: route?.route ?? null,
      status: CODE_INFO[code].http,
      requires: route?.requires ?? NOTHING,
      denied: null,
      matched: NO_RULES,
      ...extra,
    };
  }

  async function decide(input: CheckInput): Promise<CheckOutcome> {
    // 1. Route: which Kafka operations does this request perform? Unknown means deny.
    const route = mapRoute(input.method, input.path);
    if (!route.known) {
      const reason = route.status === 405 ? 'method not allowed on this path' : 'no such route';
      return deny('ROUTE_UNKNOWN', reason, null, { status: route.status });
    }
    if (route.public) {
      return {
        allow: true,
        decidedAllow: true,
        code: null,
        reason: 'public route',
        principal: null,
        issuer: null,
        tokenHash: null,
        expiresAtMs: null,
        route: route.route,
        status: 200,
        requires: NOTHING,
        denied: null,
        matched: NO_RULES,
      };
    }

    // 2. Extract: Authorization: Bearer only.
    const bearer = extractBearer(input.authorization, maxTokenBytes);
    if (!bearer.ok) return deny(bearer.code, 'no usable bearer token', route);

    // 3. Verify: signature, issuer, audience, lifetime; the principal claim.
    const token = await deps.verifier.verify(bearer.token);
    if (!token.ok) return deny(token.code, token.reason, route);
    // A certificate-bound token (RFC 8705) counts only with its client certificate.
    const binding = checkCertificateBinding(
      token.certificateBinding,
      token.claims,
      input.clientCertThumbprint,
    );
    if (!binding.ok) return deny(binding.code, binding.reason, route);
    const identity = {
      principal: token.principal,
      issuer: token.issuer,
      tokenHash: token.tokenHash,
      expiresAtMs: token.expiresAtMs,
    };
    if (!config.authorization) {
      return {
        allow: true,
        decidedAllow: true,
        code: null,
        reason: 'authenticated (authorization off)',
        ...identity,
        route: route.route,
        status: 200,
        requires: route.requires,
        denied: null,
        matched: NO_RULES,
      };
    }

    // 4. Map and decide: the principal must be a known service user allowed every operation.
    const verdict = authorize(deps.acls(), token.principal, route.requires, input.host);
    if (!verdict.allow) {
      const reason = verdict.denied ? `not allowed: ${describe(verdict.denied)}` : verdict.reason;
      return deny(verdict.code, reason, route, {
        ...identity,
        denied: verdict.denied,
        matched: verdict.matched ? [verdict.matched] : NO_RULES,
      });
    }
    return {
      allow: true,
      decidedAllow: true,
      code: null,
      reason: 'allowed',
      ...identity,
      route: route.route,
      status: 200,
      requires: route.requires,
      denied: null,
      matched: verdict.matched,
    };
  }

  return {
    async check(input) {
      try {
        return await decide(input);
      } catch {
        // Fail closed: an unexpected error must never read as allow.
        return deny('INTERNAL', 'internal error during the check', null);
      }
    },
  };
}
