import type { Config } from './schema.ts';

/**
 * Timer combinations that validate but cannot do what they promise (issue 11).
 * Warnings, not errors: each is a legal if unwise choice. Pure.
 */

/** The ext_authz timeout deploy/envoy/envoy.yaml and the chart set (envoy.extAuthz.timeoutMs). */
export const EXT_AUTHZ_TIMEOUT_MS = 4000;
/** Keycloak's default access-token lifespan, the shortest default among the IdPs we document. */
export const TYPICAL_TOKEN_LIFETIME_SEC = 300;

/** One line per problem, each naming the fields involved and what would go wrong. */
export function findTimerWarnings(config: Config): string[] {
  const { jwksCooldownSec, jwksRefreshSec, jwksTimeoutMs } = config.jwt;
  const warnings: string[] = [];
  if (jwksCooldownSec >= jwksRefreshSec) {
    warnings.push(
      `jwt.jwksCooldownSec (${jwksCooldownSec}) >= jwt.jwksRefreshSec (${jwksRefreshSec}): ` +
        'the floor between key fetches must be shorter than the refresh interval, or every unknown kid waits a whole refresh',
    );
  }
  if (jwksRefreshSec > TYPICAL_TOKEN_LIFETIME_SEC) {
    warnings.push(
      `jwt.jwksRefreshSec (${jwksRefreshSec}) > ${TYPICAL_TOKEN_LIFETIME_SEC}: a key the IdP stops publishing ` +
        'stays trusted longer than a typical access token lives (Keycloak default 300 s); expected at most the token lifetime',
    );
  }
  if (jwksCooldownSec * 1000 + Math.min(jwksTimeoutMs, 1000) >= EXT_AUTHZ_TIMEOUT_MS) {
    warnings.push(
      `jwt.jwksCooldownSec (${jwksCooldownSec}) plus a JWKS fetch reaches Envoy's ext_authz timeout ` +
        `(${EXT_AUTHZ_TIMEOUT_MS} ms in deploy/envoy and the chart): the first request with a new key would fail as 503; ` +
        'expected a floor of a few seconds, or raise envoy.extAuthz.timeoutMs',
    );
  }
  if (jwksTimeoutMs >= jwksRefreshSec * 1000) {
    warnings.push(
      `jwt.jwksTimeoutMs (${jwksTimeoutMs}) >= jwt.jwksRefreshSec (${jwksRefreshSec} s): a slow IdP would keep one fetch running past the next refresh`,
    );
  }
  if (config.sessions.sweepIntervalSec > config.sessions.idleTimeoutSec) {
    warnings.push(
      `sessions.sweepIntervalSec (${config.sessions.sweepIntervalSec}) > sessions.idleTimeoutSec ` +
        `(${config.sessions.idleTimeoutSec}): idle sessions live up to the sweep interval, not the idle timeout`,
    );
  }
  return warnings;
}
