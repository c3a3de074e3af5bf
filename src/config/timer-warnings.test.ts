import assert from 'node:assert/strict';
import { parseConfig } from './load.ts';
import { findTimerWarnings } from './timer-warnings.ts';

const ISSUERS = [{ issuer: 'https://idp.example.com/realms/kafka', audiences: ['kafka'] }];

function warningsFor(overrides: Record<string, unknown>): string[] {
  return findTimerWarnings(parseConfig({ issuers: ISSUERS, ...overrides }));
}

describe('findTimerWarnings', () => {
  it('finds nothing to warn about in the defaults', () => {
    assert.deepEqual(warningsFor({}), []);
  });

  const cases: Array<[name: string, overrides: Record<string, unknown>, field: string]> = [
    [
      'a floor not shorter than the refresh',
      { jwt: { jwksCooldownSec: 10, jwksRefreshSec: 10 } },
      'jwt.jwksCooldownSec (10) >= jwt.jwksRefreshSec',
    ],
    [
      'a refresh longer than a typical token life',
      { jwt: { jwksRefreshSec: 600 } },
      'jwt.jwksRefreshSec (600) > 300',
    ],
    [
      "a floor that outlasts Envoy's check timeout",
      { jwt: { jwksCooldownSec: 4 } },
      "Envoy's ext_authz timeout",
    ],
    [
      'a fetch timeout longer than the refresh',
      { jwt: { jwksTimeoutMs: 20000, jwksRefreshSec: 10 } },
      'jwt.jwksTimeoutMs (20000)',
    ],
    [
      'a sweep slower than the idle timeout',
      { sessions: { sweepIntervalSec: 600, idleTimeoutSec: 60 } },
      'sessions.sweepIntervalSec (600)',
    ],
  ];
  for (const [name, overrides, field] of cases) {
    it(`warns about ${name}`, () => {
      const warnings = warningsFor(overrides);
      assert.equal(warnings.filter((w) => w.includes(field)).length, 1, warnings.join('\n'));
    });
  }
});
