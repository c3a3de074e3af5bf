import type { Logger } from 'pino';
import { type Metrics, REASON_OK, type Transport } from '../metrics/metrics.ts';
import type { Checker, CheckInput, CheckOutcome } from './check.ts';

/**
 * The edge around `Checker`: times the check, counts the decision, writes the one log line.
 * Both front ends (Envoy gRPC and plain HTTP) go through here, so they count and log alike.
 */

export interface AuthzService {
  decide(input: CheckInput, transport: Transport, requestId: string | undefined): Promise<CheckOutcome>;
}

const MAX_LOGGED_PATH = 512;

export function createAuthzService(
  checker: Checker,
  metrics: Metrics,
  logger: Logger,
  options: { logAllows: boolean },
): AuthzService {
  return {
    async decide(input, transport, requestId) {
      const started = process.hrtime.bigint();
      const outcome = await checker.check(input);
      metrics.observeCheck(transport, Number(process.hrtime.bigint() - started) / 1e9);
      const result = outcome.allow ? (outcome.decidedAllow ? 'allow' : 'audit_allow') : 'deny';
      metrics.recordDecision(result, outcome.code ?? REASON_OK);
      const wanted = result === 'allow' ? options.logAllows && logger.isLevelEnabled('info') : true;
      if (wanted) {
        const line = {
          event: 'authz_decision',
          result,
          reason: outcome.code ?? REASON_OK,
          detail: outcome.reason,
          requestId,
          transport,
          method: input.method,
          path: input.path.length > MAX_LOGGED_PATH ? `${input.path.slice(0, MAX_LOGGED_PATH)}…` : input.path,
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
      }
      return outcome;
    },
  };
}
