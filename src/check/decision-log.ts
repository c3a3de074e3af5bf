import type { Logger } from 'pino';
import { type DecisionResult, type Metrics, REASON_OK } from '../metrics/metrics.ts';
import type { CheckContext, CheckOutcome, CheckRequest, DecisionRecorder } from './check.ts';

/**
 * The edge around every check: times it, counts the decision, writes the one log line. The gate
 * and the REST process both record through here, so they count and log alike.
 *
 * What the REST process records: a route re-check was already counted by the gate when it
 * passed there, so REST records only an enforced denial (a request that skipped Envoy, or rules
 * that changed in between); a check of resources named in a body (only REST sees bodies) is
 * recorded unless plainly allowed, as the gate records its own verdicts.
 */

const MAX_LOGGED_PATH = 512;

export function resultOf(outcome: CheckOutcome): DecisionResult {
  if (outcome.verdict === 'allow') return 'allow';
  return outcome.enforced ? 'deny' : 'audit_allow';
}

export function createDecisionRecorder(
  metrics: Metrics,
  logger: Logger,
  options: { logAllows: boolean },
): DecisionRecorder {
  return (
    outcome: CheckOutcome,
    request: Pick<CheckRequest, 'method' | 'path'>,
    context: CheckContext,
    seconds,
  ) => {
    const result = resultOf(outcome);
    if (context.transport === 'rest') {
      // Route re-checks (`route` set): only enforced denials are news; body checks: any non-allow.
      if (result === 'allow' || (outcome.route !== null && result !== 'deny')) return;
    } else {
      metrics.observeCheck(context.transport, seconds);
    }
    metrics.recordDecision(result, outcome.code ?? REASON_OK);
    const wanted = result === 'allow' ? options.logAllows && logger.isLevelEnabled('info') : true;
    if (!wanted) return;
    const path = request.path;
    const line = {
      event: 'authz_decision',
      result,
      reason: outcome.code ?? REASON_OK,
      detail: outcome.reason,
      requestId: context.requestId,
      transport: context.transport,
      method: request.method,
      path: path.length > MAX_LOGGED_PATH ? `${path.slice(0, MAX_LOGGED_PATH)}…` : path,
      route: outcome.route,
      principal: outcome.principal,
      issuer: outcome.issuer,
      tokenHash: outcome.tokenHash,
      operation: outcome.denied?.operation,
      resourceType: outcome.denied?.resourceType,
      resource: outcome.denied?.name,
      rule: outcome.matched[0]?.description,
    };
    if (result === 'allow') logger.info(line);
    else logger.warn(line);
  };
}

/** Logs an exception that is not a verdict, with its stack, before the fail-closed answer. */
export function logUnexpected(logger: Logger, where: string): (err: unknown) => void {
  return (err) =>
    logger.error(
      {
        event: 'unexpected_error',
        where,
        err: (err as Error)?.message ?? String(err),
        stack: (err as Error)?.stack,
      },
      `unexpected error in ${where}; failing closed`,
    );
}
