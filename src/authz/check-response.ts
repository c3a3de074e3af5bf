import { type CheckOutcome, passes } from '../check/check.ts';
import { CHECK_HANDOFF_HEADER } from '../check/check-handoff.ts';
import { CODE_INFO, errorAnswer, RPC } from '../errors.ts';
import { CLIENT_ADDRESS_HEADER } from '../routes/raw-headers.ts';

/**
 * The CheckResponse Envoy gets for an outcome, as an object and as the bytes sent. An allow
 * depends only on the principal and the client address, so its bytes are encoded once per
 * pair and reused (issue #14: the cached Check's allocation); a denial is encoded each time.
 */

interface HeaderValueOption {
  header: { key: string; value: string };
  append_action: 'OVERWRITE_IF_EXISTS_OR_ADD';
}

function overwrite(key: string, value: string): HeaderValueOption {
  // OVERWRITE_IF_EXISTS_OR_ADD: a client-sent copy of an identity header must never survive
  // next to ours (without an append action, current Envoy appends).
  return { header: { key, value }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' };
}

/**
 * Builds the CheckResponse for an outcome. Only status code 0 allows. An allowed request carries
 * the principal and the client address the check used, so the REST process checks the same host,
 * and, in `tollgate serve`, the id under which the REST process finds this check (check-handoff.ts).
 */
export function toCheckResponse(
  outcome: CheckOutcome,
  principalHeader: string,
  host: string | undefined,
  handoffId: string | null = null,
): Record<string, unknown> {
  if (passes(outcome)) {
    if (outcome.principal === null) {
      // Public route: no identity, and client-sent copies of the headers must not pass either.
      return {
        status: { code: RPC.OK },
        ok_response: { headers_to_remove: [principalHeader, CLIENT_ADDRESS_HEADER, CHECK_HANDOFF_HEADER] },
      };
    }
    const headers = [overwrite(principalHeader, outcome.principal)];
    if (host !== undefined && host !== '') headers.push(overwrite(CLIENT_ADDRESS_HEADER, host));
    if (handoffId !== null) headers.push(overwrite(CHECK_HANDOFF_HEADER, handoffId));
    return { status: { code: RPC.OK }, ok_response: { headers } };
  }
  const code = outcome.code ?? 'INTERNAL';
  const denial = errorAnswer(code, outcome.detail);
  return {
    status: { code: CODE_INFO[code].grpc, message: code },
    denied_response: {
      status: { code: denial.status },
      headers: denial.headers.map(([k, v]) => overwrite(k, v)),
      body: denial.body,
    },
  };
}

/** Encodes a CheckResponse object (the service definition's serializer). */
export type CheckResponseSerializer = (response: Record<string, unknown>) => Buffer;

/**
 * The bytes of `toCheckResponse(outcome, principalHeader, host, handoffId)`, the allows from a
 * bounded cache. The cache is emptied when it holds `maxEntries` pairs: it only saves encoding
 * work, so forgetting is always safe.
 *
 * An allow with a hand-off id (`tollgate serve`) is encoded whole each time: the id differs per
 * request. (Appending a second message with only the id would be merged by Envoy's parser, but
 * protobufjs replaces an embedded message instead of merging it, so our own decoder could not
 * check such bytes.)
 */
export function createCheckResponseEncoder(
  serialize: CheckResponseSerializer,
  principalHeader: string,
  maxEntries = 10000,
): (outcome: CheckOutcome, host: string | undefined, handoffId?: string | null) => Buffer {
  // Principal -> client address ('' for none: toCheckResponse sets no address header then).
  const allows = new Map<string, Map<string, Buffer>>();
  let entries = 0;
  let publicAllow: Buffer | null = null;
  return (outcome, host, handoffId) => {
    if (!passes(outcome)) return serialize(toCheckResponse(outcome, principalHeader, host));
    const principal = outcome.principal;
    if (principal !== null && handoffId !== null && handoffId !== undefined)
      return serialize(toCheckResponse(outcome, principalHeader, host, handoffId));
    if (principal === null) {
      publicAllow ??= serialize(toCheckResponse(outcome, principalHeader, host));
      return publicAllow;
    }
    const address = host ?? '';
    let byHost = allows.get(principal);
    const cached = byHost?.get(address);
    if (cached !== undefined) return cached;
    const bytes = serialize(toCheckResponse(outcome, principalHeader, host));
    if (entries >= maxEntries) {
      allows.clear();
      entries = 0;
      byHost = undefined;
    }
    if (byHost === undefined) {
      byHost = new Map();
      allows.set(principal, byHost);
    }
    byHost.set(address, bytes);
    entries++;
    return bytes;
  };
}
