import type { ErrorCode } from '../errors.ts';
import { type CompiledAcls, type CompiledRule, OPERATION_BIT, type ResourceRules } from './acl-compile.ts';
import type { ResourceRequest, RuleRef } from './acl-types.ts';
import { matchesName } from './name-pattern.ts';

/**
 * The ACL verdict, with Kafka StandardAuthorizer semantics: super users pass; otherwise a
 * matching DENY beats any ALLOW, and without a matching ALLOW the answer is deny.
 *
 * `host` is the client address as text, for rules that name one. When it is not known, rules
 * naming a host are read the safe way: such an ALLOW never matches and such a DENY always does.
 */

export type AclDecision =
  /** `matched`: the rule that allowed each request, in order (a super user: their one entry). */
  | { allow: true; matched: RuleRef[] }
  | { allow: false; code: Extract<ErrorCode, 'USER_UNKNOWN'>; reason: string; denied: null; matched: null }
  | {
      allow: false;
      code: Extract<ErrorCode, 'ACL_DENIED'>;
      reason: string;
      /** The first request that failed. */
      denied: ResourceRequest;
      /** The DENY rule that decided, or null when no ALLOW matched. */
      matched: RuleRef | null;
    };

interface Verdict {
  allow: CompiledRule | null;
  deny: CompiledRule | null;
}

// Keeps the lowest-index rule of each kind, so the rule reported does not depend on which
// lookup structure a rule landed in.
function scan(
  rules: readonly CompiledRule[],
  name: string | null,
  bit: number,
  host: string | undefined,
  verdict: Verdict,
): void {
  for (const rule of rules) {
    if ((rule.operations & bit) === 0) continue;
    // Fail closed on an unknown client host: see the module comment.
    if (rule.host !== null && (host === undefined ? !rule.deny : rule.host !== host)) continue;
    if (name !== null && !matchesName(rule.pattern, name)) continue;
    if (rule.deny) {
      if (verdict.deny === null || rule.ref.index < verdict.deny.ref.index) verdict.deny = rule;
    } else if (verdict.allow === null || rule.ref.index < verdict.allow.ref.index) {
      verdict.allow = rule;
    }
  }
}

/** The rule that decides the request: a DENY, else an ALLOW, else null (no match: deny). */
function decidingRule(
  rules: ResourceRules | undefined,
  request: ResourceRequest,
  host: string | undefined,
): CompiledRule | null {
  if (rules === undefined) return null;
  const bit = OPERATION_BIT[request.operation];
  const verdict: Verdict = { allow: null, deny: null };
  const exact = rules.exact.get(request.name);
  if (exact !== undefined) scan(exact, null, bit, host, verdict);
  scan(rules.any, null, bit, host, verdict);
  scan(rules.prefixed, request.name, bit, host, verdict);
  scan(rules.patterned, request.name, bit, host, verdict);
  return verdict.deny ?? verdict.allow;
}

function describeRequest(request: ResourceRequest): string {
  return `${request.operation} on ${request.resourceType} ${JSON.stringify(request.name)}`;
}

/** True when `user` is a service user or a super user of the file. */
export function isKnownUser(acls: CompiledAcls, user: string): boolean {
  return acls.users.has(user);
}

/**
 * Decides whether `user` may do every one of `requests` (none: just being known is enough).
 * Fails with USER_UNKNOWN for a user the file does not list, ACL_DENIED for the first request
 * a DENY rule matches or no ALLOW rule covers.
 */
export function authorize(
  acls: CompiledAcls,
  user: string,
  requests: readonly ResourceRequest[],
  host?: string,
): AclDecision {
  const userAcls = acls.users.get(user);
  if (userAcls === undefined) {
    return {
      allow: false,
      code: 'USER_UNKNOWN',
      reason: `${JSON.stringify(user)} is not a known service user`,
      denied: null,
      matched: null,
    };
  }
  if (userAcls.superUser !== null) return { allow: true, matched: [userAcls.superUser] };
  const matched: RuleRef[] = [];
  for (const request of requests) {
    const rule = decidingRule(userAcls.resources.get(request.resourceType), request, host);
    if (rule === null) {
      return {
        allow: false,
        code: 'ACL_DENIED',
        reason: `no ACL allows ${describeRequest(request)}`,
        denied: request,
        matched: null,
      };
    }
    if (rule.deny) {
      return {
        allow: false,
        code: 'ACL_DENIED',
        reason: `${describeRequest(request)} is denied by ${rule.ref.description}`,
        denied: request,
        matched: rule.ref,
      };
    }
    matched.push(rule.ref);
  }
  return { allow: true, matched };
}

/** The same verdict as `authorize` for one request, as a boolean (for filtering topic lists). */
export function allowsOperation(
  acls: CompiledAcls,
  user: string,
  request: ResourceRequest,
  host?: string,
): boolean {
  const userAcls = acls.users.get(user);
  if (userAcls === undefined) return false;
  if (userAcls.superUser !== null) return true;
  const rule = decidingRule(userAcls.resources.get(request.resourceType), request, host);
  return rule !== null && !rule.deny;
}
