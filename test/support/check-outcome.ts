import type { CheckOutcome } from '../../src/check/check.ts';

/** A CheckOutcome for tests of what answers are built from one: an enforced denial unless told. */
export function checkOutcome(fields: Partial<CheckOutcome> = {}): CheckOutcome {
  return {
    verdict: 'deny',
    enforced: true,
    code: null,
    reason: 'test',
    detail: null,
    principal: null,
    issuer: null,
    tokenHash: null,
    token: null,
    expiresAtMs: null,
    route: null,
    requires: [],
    denied: null,
    matched: [],
    ...fields,
  };
}
