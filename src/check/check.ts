import type { CompiledAcls } from '../acl/acl-compile.ts';
import { allowsOperation, authorize } from '../acl/acl-match.ts';
import type { ResourceRequest, RuleRef } from '../acl/acl-types.ts';
import type { Config } from '../config/schema.ts';
import type { ErrorCode } from '../errors.ts';
import { extractBearer } from '../jwt/bearer.ts';
import { checkCertificateBinding } from '../jwt/certificate-binding.ts';
import type { TokenVerifier, VerifiedToken } from '../jwt/verifier.ts';
import type { KnownRoute, RouteId, RouteMatch } from '../routes/route-map.ts';

/**
 * One authorization check, transport-neutral, shared by the gate (gRPC and HTTP front ends)
 * and the REST process: the story from a matched route and its Authorization values to a
 * verdict. Extract the bearer token, verify it, decide against the ACLs, apply the mode. Both
 * processes hand every outcome to the same recorder, so they count and log alike.
 */

export interface CheckRequest {
  /** The route the caller matched (once) from the method and raw target. */
  readonly route: RouteMatch;
  readonly method: string;
  /** Raw request target as Envoy saw it: path and query string, not percent-decoded (logs only). */
  readonly path: string;
  /** Authorization header values as sent; more than one is refused. */
  readonly authorization: string | readonly string[] | undefined;
  /** The client address Envoy saw, for ACL rules that name a host. */
  readonly host: string | undefined;
  /** RFC 8705 thumbprint (base64url SHA-256 of the DER) of the client's TLS certificate, if it sent one. */
  readonly clientCertThumbprint?: string;
}

/** Which front end asked: the gate's gRPC or HTTP API, or the REST process re-checking. */
export type CheckTransport = 'grpc' | 'http' | 'rest';

export interface CheckContext {
  readonly transport: CheckTransport;
  readonly requestId: string | undefined;
}

export interface CheckOutcome {
  /** What the rules decided. */
  readonly verdict: 'allow' | 'deny';
  /** False when a deny is only audited (mode audit): the request passes, the verdict is logged. */
  readonly enforced: boolean;
  /** The reason code of a denial (also of an audited one), null when allowed. */
  readonly code: ErrorCode | null;
  /** Human reason, safe to log: no token, no claims. */
  readonly reason: string;
  /** Detail the client may see with the code's message (the refused operation), else null. */
  readonly detail: string | null;
  /** The principal (service user) when the token verified. */
  readonly principal: string | null;
  readonly issuer: string | null;
  readonly tokenHash: string | null;
  /** The verified bearer token itself, so callers need not extract it again. */
  readonly token: string | null;
  /** The verified token's expiry (epoch ms), when it verified. */
  readonly expiresAtMs: number | null;
  readonly route: RouteId | null;
  /** What the route requires, and the entry that decided, for logs and `tollgate explain`. */
  readonly requires: readonly ResourceRequest[];
  readonly denied: ResourceRequest | null;
  readonly matched: readonly RuleRef[];
}

/** True when the request may go on: allowed, or denied only in audit mode. */
export function passes(outcome: CheckOutcome): boolean {
  return outcome.verdict === 'allow' || !outcome.enforced;
}

/** Receives every outcome: metrics and the decision log (see decision-log.ts). */
export type DecisionRecorder = (
  outcome: CheckOutcome,
  request: Pick<CheckRequest, 'method' | 'path'>,
  context: CheckContext,
  seconds: number,
) => void;

export interface CheckerDeps {
  readonly verifier: TokenVerifier;
  /** The ACLs in force now (hot-reloaded); read once per check. */
  readonly acls: () => CompiledAcls;
  readonly record?: DecisionRecorder;
  /** An exception that is no verdict: logged with its stack before the fail-closed answer. */
  readonly onUnexpectedError?: (err: unknown) => void;
}

type CheckerConfig = Pick<Config, 'mode' | 'authorization' | 'jwt'>;

export interface Checker {
  /** Never rejects: an unexpected failure is an INTERNAL denial (fail closed). */
  check(request: CheckRequest, context: CheckContext): Promise<CheckOutcome>;
  /**
   * The same check, answered synchronously when nothing has to wait (the token is in the
   * verified-token cache, or no verification is needed): no promise on the cached hot path.
   * Never throws and never rejects; fails closed like `check`.
   */
  checkNow(request: CheckRequest, context: CheckContext): CheckOutcome | Promise<CheckOutcome>;
  /**
   * The ACL verdict for resources named only in a request body (subscription, assignments,
   * positions, offsets, v3 create): allowed when the principal may do at least one of `anyOf`
   * (Kafka's either-or rules). Recorded like a check. Authorization off: always allowed.
   */
  checkResources(
    caller: { readonly principal: string; readonly host: string | undefined },
    anyOf: readonly ResourceRequest[],
    request: Pick<CheckRequest, 'method' | 'path'>,
    context: CheckContext,
  ): CheckOutcome;
}

const NO_RULES: readonly RuleRef[] = Object.freeze([]);
const NOTHING: readonly ResourceRequest[] = Object.freeze([]);

export function describeRequest(request: ResourceRequest): string {
  return `${request.operation} on ${request.resourceType} ${JSON.stringify(request.name)}`;
}

interface Identity {
  readonly principal: string;
  readonly issuer: string | null;
  readonly tokenHash: string | null;
  readonly token: string | null;
  readonly expiresAtMs: number | null;
}

const ANONYMOUS = { principal: null, issuer: null, tokenHash: null, token: null, expiresAtMs: null };

/** Allowed outcomes kept before the memo starts over: it only saves work, forgetting is safe. */
const MAX_MEMOIZED_ALLOWS = 100000;

/**
 * Allowed outcomes by verified-token cache entry, route, resource name and client address, valid
 * for one ACL table. A route fixes the resource type and operation of what it requires, so its
 * id and the resource name say exactly what `authorize` was asked. The entry is the cache's own
 * object: it is only handed out while the token is live, and when the cache drops it the memo's
 * entries go with it (WeakMap). A new ACL table (reload) empties the memo. Only allows are kept:
 * a denial is always decided afresh.
 */
function createAllowMemo() {
  // Keyed by the address as given: undefined (none known) is its own key, not ''.
  type ByHost = Map<string | undefined, CheckOutcome>;
  let forAcls: CompiledAcls | null = null;
  let byToken = new WeakMap<VerifiedToken, Map<RouteId, Map<string, ByHost>>>();
  let size = 0;
  const nameOf = (route: KnownRoute) => (route.requires.length === 0 ? '' : route.requires[0]!.name);
  return {
    get(acls: CompiledAcls, token: VerifiedToken, route: KnownRoute, host: string | undefined) {
      if (acls !== forAcls || route.requires.length > 1) return undefined;
      return byToken.get(token)?.get(route.id)?.get(nameOf(route))?.get(host);
    },
    set(
      acls: CompiledAcls,
      token: VerifiedToken,
      route: KnownRoute,
      host: string | undefined,
      outcome: CheckOutcome,
    ): void {
      if (route.requires.length > 1) return;
      if (acls !== forAcls || size >= MAX_MEMOIZED_ALLOWS) {
        forAcls = acls;
        byToken = new WeakMap();
        size = 0;
      }
      let byRoute = byToken.get(token);
      if (byRoute === undefined) {
        byRoute = new Map();
        byToken.set(token, byRoute);
      }
      let byName = byRoute.get(route.id);
      if (byName === undefined) {
        byName = new Map();
        byRoute.set(route.id, byName);
      }
      let byHost = byName.get(nameOf(route));
      if (byHost === undefined) {
        byHost = new Map();
        byName.set(nameOf(route), byHost);
      }
      byHost.set(host, Object.freeze(outcome));
      size++;
    },
  };
}

export function createChecker(config: CheckerConfig, deps: CheckerDeps): Checker {
  const audit = config.mode === 'audit';
  const allows = createAllowMemo();
  const maxTokenBytes = config.jwt.maxTokenBytes;

  function allow(
    reason: string,
    route: RouteId | null,
    identity: Identity | typeof ANONYMOUS,
    more: {
      requires: readonly ResourceRequest[];
      matched: readonly RuleRef[];
    },
  ): CheckOutcome {
    return {
      verdict: 'allow',
      enforced: true,
      code: null,
      reason,
      detail: null,
      ...identity,
      route,
      requires: more.requires,
      denied: null,
      matched: more.matched,
    };
  }

  function deny(
    code: ErrorCode,
    reason: string,
    route: RouteId | null,
    requires: readonly ResourceRequest[],
    extra: Partial<CheckOutcome> = {},
  ): CheckOutcome {
    // Audit mode passes only ACL verdicts about a verified caller on a known route: an unknown
    // route or a bad token is refused in every mode.
    const audited = audit && (code === 'ACL_DENIED' || code === 'USER_UNKNOWN');
    return {
      verdict: 'deny',
      enforced: !audited,
      code,
      reason,
      detail: null,
      ...ANONYMOUS,
      route,
      requires,
      denied: null,
      matched: NO_RULES,
      ...extra,
    };
  }

  /** Steps 1-3 up to verification; returns synchronously unless the token needs verifying. */
  function decide(request: CheckRequest): CheckOutcome | Promise<CheckOutcome> {
    // 1. Route: matched by the caller; unknown means deny.
    const route = request.route;
    if (!route.known) {
      return route.status === 405
        ? deny('METHOD_NOT_ALLOWED', 'method not allowed on this path', null, NOTHING)
        : deny('ROUTE_UNKNOWN', 'no such route', null, NOTHING);
    }
    if (route.public)
      return allow('public route', route.id, ANONYMOUS, { requires: NOTHING, matched: NO_RULES });

    // 2. Extract: Authorization: Bearer only.
    const bearer = extractBearer(request.authorization, maxTokenBytes);
    if (!bearer.ok) return deny(bearer.code, 'no usable bearer token', route.id, route.requires);

    // 3. Verify: signature, issuer, audience, lifetime; the principal claim. A token verified
    // before and still live is answered from the cache without a promise.
    const cached = deps.verifier.verifyCached?.(bearer.token);
    if (cached !== undefined) return decideVerified(request, route, bearer.token, cached);
    return deps.verifier
      .verify(bearer.token)
      .then((verified) =>
        verified.ok
          ? decideVerified(request, route, bearer.token, verified)
          : deny(verified.code, verified.reason, route.id, route.requires),
      );
  }

  /** Steps 3-4 for a verified token: certificate binding, then the ACL decision. */
  function decideVerified(
    request: CheckRequest,
    route: KnownRoute,
    token: string,
    verified: VerifiedToken,
  ): CheckOutcome {
    // A certificate-bound token (RFC 8705) counts only with its client certificate.
    const binding = checkCertificateBinding(
      verified.certificateBinding,
      verified.claims,
      request.clientCertThumbprint,
    );
    if (!binding.ok) return deny(binding.code, binding.reason, route.id, route.requires);
    const acls = config.authorization ? deps.acls() : null;
    // The same cached token on the same route, resource and client address, under the same
    // ACLs, gets the same allow: it is answered from the memo (issue #14).
    const memoized =
      acls !== null && verified.cached ? allows.get(acls, verified, route, request.host) : undefined;
    if (memoized !== undefined) return memoized;
    const identity: Identity = {
      principal: verified.principal,
      issuer: verified.issuer,
      tokenHash: verified.tokenHash,
      token,
      expiresAtMs: verified.expiresAtMs,
    };
    if (!config.authorization) {
      return allow('authenticated (authorization off)', route.id, identity, {
        requires: route.requires,
        matched: NO_RULES,
      });
    }

    // 4. Map and decide: the principal must be a known service user allowed every operation.
    const acl = authorize(acls!, verified.principal, route.requires, request.host);
    if (!acl.allow) {
      return deny(
        acl.code,
        acl.denied ? `not allowed: ${describeRequest(acl.denied)}` : acl.reason,
        route.id,
        route.requires,
        {
          ...identity,
          detail: acl.denied ? describeRequest(acl.denied) : null,
          denied: acl.denied,
          matched: acl.matched ? [acl.matched] : NO_RULES,
        },
      );
    }
    const outcome = allow('allowed', route.id, identity, { requires: route.requires, matched: acl.matched });
    if (verified.cached) allows.set(acls!, verified, route, request.host, outcome);
    return outcome;
  }

  function failClosed(err: unknown): CheckOutcome {
    deps.onUnexpectedError?.(err);
    // Fail closed: an unexpected error must never read as allow.
    return deny('INTERNAL', 'internal error during the check', null, NOTHING);
  }

  function finish(
    outcome: CheckOutcome,
    request: CheckRequest,
    context: CheckContext,
    startedMs: number,
  ): CheckOutcome {
    deps.record?.(outcome, request, context, (performance.now() - startedMs) / 1000);
    return outcome;
  }

  function checkNow(request: CheckRequest, context: CheckContext): CheckOutcome | Promise<CheckOutcome> {
    const startedMs = performance.now();
    let result: CheckOutcome | Promise<CheckOutcome>;
    try {
      result = decide(request);
    } catch (err) {
      return finish(failClosed(err), request, context, startedMs);
    }
    if (result instanceof Promise) {
      return result.then(
        (outcome) => finish(outcome, request, context, startedMs),
        (err: unknown) => finish(failClosed(err), request, context, startedMs),
      );
    }
    return finish(result, request, context, startedMs);
  }

  return {
    checkNow,

    async check(request, context) {
      return checkNow(request, context);
    },

    checkResources(caller, anyOf, request, context) {
      const startedMs = performance.now();
      let outcome: CheckOutcome;
      const identity = { ...ANONYMOUS, principal: caller.principal };
      if (!config.authorization) {
        return allow('authenticated (authorization off)', null, identity, {
          requires: anyOf,
          matched: NO_RULES,
        });
      }
      const acls = deps.acls();
      if (anyOf.some((wanted) => allowsOperation(acls, caller.principal, wanted, caller.host))) {
        outcome = allow('allowed', null, identity, { requires: anyOf, matched: NO_RULES });
      } else {
        const first = anyOf[0]!;
        outcome = deny('ACL_DENIED', `not allowed: ${describeRequest(first)}`, null, anyOf, {
          ...identity,
          detail: describeRequest(first),
          denied: first,
        });
      }
      deps.record?.(outcome, request, context, (performance.now() - startedMs) / 1000);
      return outcome;
    },
  };
}
